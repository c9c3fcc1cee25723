%% Helpers that the ei4j node tests call on a real Erlang node (through rex) to make
%% Erlang processes link to, monitor, call and exchange with Java processes.
-module(ei4j_node_peer).
-export([start/0, echo_loop/0, victim/0, watch/2, link_to/2, exit_to/2, send_to/2,
         rpc_java/4, erpc_java/4, gen_call/2, alias_roundtrip/2, swarm/3, spawn_java/4,
         connect_java/1, flood/2, link_unlink/2, spawn_link_java/4, watched_wait/1]).

start() ->
    register(echo, spawn(fun echo_loop/0)),
    io:format("ready~n").

echo_loop() ->
    receive
        {From, Msg} -> From ! {echo, Msg}, echo_loop();
        _ -> echo_loop()
    end.

%% A process that waits for {die, Reason} and then exits with Reason.
victim() ->
    spawn(fun() -> receive {die, R} -> exit(R) end end).

%% A process that monitors Target (a pid or {Name, Node}) and reports the 'DOWN' to
%% ReportTo and on standard output. Returns once the monitor is set up.
watch(Target, ReportTo) ->
    Parent = self(),
    P = spawn(fun() ->
                      Ref = erlang:monitor(process, Target),
                      Parent ! {ready, self()},
                      receive
                          {'DOWN', Ref, process, Obj, Reason} ->
                              io:format("DOWN ~w ~w~n", [Obj, Reason]),
                              catch ReportTo ! {down, self(), Obj, Reason}
                      end
              end),
    receive {ready, P} -> P end.

%% A trap_exit process linked to JavaPid that reports the exit signal it gets.
link_to(JavaPid, ReportTo) ->
    Parent = self(),
    P = spawn(fun() ->
                      process_flag(trap_exit, true),
                      link(JavaPid),
                      Parent ! {ready, self()},
                      receive
                          {'EXIT', JavaPid, Reason} ->
                              io:format("EXIT ~w ~w~n", [JavaPid, Reason]),
                              catch ReportTo ! {exit, self(), Reason}
                      end
              end),
    receive {ready, P} -> P end.

exit_to(Pid, Reason) ->
    exit(Pid, Reason).

send_to(Target, Msg) ->
    Target ! Msg,
    ok.

rpc_java(Node, M, F, A) ->
    rpc:call(Node, M, F, A, 10000).

erpc_java(Node, M, F, A) ->
    try {ok, erpc:call(Node, M, F, A, 10000)}
    catch Class:Reason -> {Class, Reason}
    end.

gen_call(Target, Request) ->
    try {ok, gen_server:call(Target, Request, 5000)}
    catch exit:Reason -> {exit, Reason}
    end.

%% Sends {alias_req, Alias, Payload} to JavaTarget and waits for a reply sent to the alias.
alias_roundtrip(JavaTarget, Payload) ->
    Alias = alias([explicit_unalias]),
    JavaTarget ! {alias_req, Alias, Payload},
    receive
        {alias_reply, Reply} -> unalias(Alias), {ok, Reply}
    after 5000 -> unalias(Alias), timeout
    end.

%% One Erlang process per Java pid: each sends {self(), I} to its Java pid, expects
%% {pong, I} back, and reports to ReportTo once all have answered: {swarm_done, N}.
swarm(JavaPids, ReportTo, TimeoutMs) ->
    Parent = self(),
    Indexed = lists:zip(lists:seq(1, length(JavaPids)), JavaPids),
    Pids = [spawn(fun() ->
                          J ! {self(), I},
                          receive {pong, I} -> Parent ! {ok, self()}
                          after TimeoutMs -> Parent ! {missing, self()}
                          end
                  end) || {I, J} <- Indexed],
    Ok = length([x || P <- Pids, receive {ok, P} -> true; {missing, P} -> false end]),
    ReportTo ! {swarm_done, Ok},
    ok.

%% spawn(Node, M, F, A) monitored; returns the 'DOWN' reason.
spawn_java(Node, M, F, A) ->
    {Pid, Ref} = spawn_monitor(Node, M, F, A),
    receive {'DOWN', Ref, process, Pid, Reason} -> {down, Reason}
    after 5000 -> timeout
    end.

connect_java(Node) ->
    net_kernel:connect_node(Node).

%% Sends N messages {flood, I} to Target.
flood(Target, N) ->
    lists:foreach(fun(I) -> Target ! {flood, I} end, lists:seq(1, N)),
    ok.

%% A trap_exit process that links to JavaPid and unlinks again (UNLINK_ID), then reports
%% {no_exit, self()} when no exit signal comes within a second, else {exit, self(), Reason}.
link_unlink(JavaPid, ReportTo) ->
    Parent = self(),
    P = spawn(fun() ->
                      process_flag(trap_exit, true),
                      link(JavaPid),
                      unlink(JavaPid),
                      Parent ! {ready, self()},
                      receive
                          {'EXIT', JavaPid, Reason} -> ReportTo ! {exit, self(), Reason}
                      after 1000 -> ReportTo ! {no_exit, self()}
                      end
              end),
    receive {ready, P} -> P end.

%% spawn_link(Node, M, F, A) from a trap_exit process; returns the exit reason.
spawn_link_java(Node, M, F, A) ->
    process_flag(trap_exit, true),
    Pid = spawn_link(Node, M, F, A),
    receive {'EXIT', Pid, Reason} -> {exit, Reason}
    after 5000 -> timeout
    end.

%% Run by a spawn request: has a watcher report to ReportTo {watching, Self} and later
%% {ended, Self, Reason} when this process ends, then waits for ever.
watched_wait(ReportTo) ->
    Self = self(),
    spawn(fun() ->
                  Ref = erlang:monitor(process, Self),
                  ReportTo ! {watching, Self},
                  receive {'DOWN', Ref, process, _, Reason} -> ReportTo ! {ended, Self, Reason} end
          end),
    receive after infinity -> ok end.
