%% A small gen_server for the ei4j node tests.
-module(ei4j_node_gs).
-behaviour(gen_server).
-export([start/1, init/1, handle_call/3, handle_cast/2, handle_info/2]).

start(Name) ->
    {ok, Pid} = gen_server:start({local, Name}, ?MODULE, [], []),
    Pid.

init([]) -> {ok, 0}.

handle_call(get, _From, N) -> {reply, N, N};
handle_call({add, K}, _From, N) -> {reply, N + K, N + K};
handle_call({sleep, Ms}, _From, N) -> timer:sleep(Ms), {reply, slept, N};
handle_call(crash, _From, _N) -> exit(crashed_on_purpose).

handle_cast({add, K}, N) -> {noreply, N + K}.

handle_info(_, N) -> {noreply, N}.
