%% Erlang side of ei4j's reliability tests.
%%
%% sink: counts {seq, Sender, N} messages and checks that every sender's numbers arrive
%% as 1, 2, 3, ... (no loss, duplicate or reordering); answers {expect, Total, Pid} with
%% {sink_report, Count, Bad, Senders} once Total messages have arrived, and prints its
%% count when a node goes down.
%% ctl: {flood, To, Procs, PerProc} spawns Procs processes that each send
%% {seq, ProcIndex, 1..PerProc} to the pid To.
-module(ei4j_rel).
-export([start/0]).

start() ->
    Sink = spawn(fun() ->
                         ok = net_kernel:monitor_nodes(true, [{node_type, all}]),
                         sink(#{}, 0, 0, undefined)
                 end),
    register(sink, Sink),
    register(ctl, spawn(fun ctl/0)),
    io:format("ready~n").

sink(Seen, Count, Bad, Waiter) ->
    receive
        {seq, S, N} ->
            Next = maps:get(S, Seen, 1),
            Bad1 = case N =:= Next of true -> Bad; false -> Bad + 1 end,
            check(Seen#{S => N + 1}, Count + 1, Bad1, Waiter);
        {expect, Total, Pid} ->
            check(Seen, Count, Bad, {Pid, Total});
        {nodedown, Node, _} ->
            erlang:send_after(300, self(), {print, Node}),
            sink(Seen, Count, Bad, Waiter);
        {print, Node} ->
            io:format("sink ~s count ~p bad ~p~n", [Node, Count, Bad]),
            sink(Seen, Count, Bad, Waiter);
        {nodeup, _, _} ->
            sink(Seen, Count, Bad, Waiter)
    end.

check(Seen, Count, Bad, {Pid, Total}) when Count >= Total ->
    Pid ! {sink_report, Count, Bad, maps:size(Seen)},
    sink(Seen, Count, Bad, undefined);
check(Seen, Count, Bad, Waiter) ->
    sink(Seen, Count, Bad, Waiter).

ctl() ->
    receive
        {flood, To, Procs, PerProc} ->
            [spawn(fun() -> send_seq(To, P, 1, PerProc) end) || P <- lists:seq(1, Procs)],
            ctl()
    end.

send_seq(_, _, I, Max) when I > Max -> ok;
send_seq(To, P, I, Max) ->
    To ! {seq, P, I},
    send_seq(To, P, I + 1, Max).
