%% The Erlang side of ei4j's side-by-side benchmark.
%%
%% start/0 runs on the server node: it registers
%%   echo    - {From, Msg} -> From ! Msg
%%   sink    - counts {seq, N, Bin} messages; {done, From} -> From ! {count, Count, Bytes}
%%   flooder - {flood, From, Size, Max, Millis} -> sends From {seq, I, Bin} (Size bytes)
%%             until Max messages or Millis ms, then {flood_done, Sent}
%% prints "ready NODE" and halts when its standard input closes, so that the node never
%% outlives the harness that started it.
%%
%% client/1 runs on a second Erlang node: the same workloads as the Java and C clients
%% (msend: send from ?SENDERS processes at once, then one {done, Self}),
%% timed by this node, printed as "RESULT Count Nanos Bytes", then the node halts.
-module(bench_peer).
-export([start/0, client/1]).

-define(SENDERS, 4).

start() ->
    register(echo, spawn(fun echo/0)),
    register(sink, spawn(fun() -> sink(0, 0) end)),
    register(flooder, spawn(fun flooder/0)),
    spawn(fun watch_stdin/0),
    io:format("ready ~s~n", [node()]).

watch_stdin() ->
    case io:get_line('') of
        eof -> erlang:halt(0);
        {error, _} -> erlang:halt(0);
        _ -> watch_stdin()
    end.

echo() ->
    receive
        {From, Msg} -> From ! Msg
    end,
    echo().

sink(Count, Bytes) ->
    receive
        {seq, _, Bin} when is_binary(Bin) -> sink(Count + 1, Bytes + byte_size(Bin));
        {done, From} -> From ! {count, Count, Bytes}, sink(0, 0)
    end.

flooder() ->
    receive
        {flood, From, Size, Max, Millis} ->
            Bin = binary:copy(<<"x">>, Size),
            %% In nanoseconds: a deadline in whole milliseconds can end the flood up to
            %% 1 ms before the client, timing it in nanoseconds, has had its Millis.
            Deadline = erlang:monotonic_time(nanosecond) + Millis * 1000000,
            Sent = flood(From, Bin, 0, Max, Deadline),
            From ! {flood_done, Sent}
    end,
    flooder().

flood(_, _, Max, Max, _) -> Max;
flood(To, Bin, I, Max, Deadline) ->
    To ! {seq, I, Bin},
    case I band 63 of
        63 ->
            case erlang:monotonic_time(nanosecond) >= Deadline of
                true -> I + 1;
                false -> flood(To, Bin, I + 1, Max, Deadline)
            end;
        _ -> flood(To, Bin, I + 1, Max, Deadline)
    end.

%% [Mode, ServerNode, WarmupMillis, Millis, Size, Max], all atoms (from -eval or -s).
client([Mode, Server, WarmupMillis, Millis, Size, Max]) ->
    W = to_int(WarmupMillis), M = to_int(Millis), S = to_int(Size), X = to_int(Max),
    pong = net_adm:ping(Server),
    _ = run(Mode, Server, W, S, X),
    {Count, Nanos, Bytes} = run(Mode, Server, M, S, X),
    io:format("RESULT ~b ~b ~b~n", [Count, Nanos, Bytes]),
    erlang:halt(0).

to_int(A) when is_atom(A) -> list_to_integer(atom_to_list(A));
to_int(I) when is_integer(I) -> I.

run(pingpong, Server, Millis, _Size, Max) ->
    T0 = erlang:monotonic_time(nanosecond),
    Deadline = T0 + Millis * 1000000,
    N = pingpong({echo, Server}, 0, Max, Deadline),
    {N, erlang:monotonic_time(nanosecond) - T0, 0};
run(send, Server, Millis, Size, Max) ->
    Bin = binary:copy(<<"x">>, Size),
    T0 = erlang:monotonic_time(nanosecond),
    Deadline = T0 + Millis * 1000000,
    Sent = send({sink, Server}, Bin, 0, Max, Deadline),
    {sink, Server} ! {done, self()},
    receive
        {count, Sent, Bytes} -> {Sent, erlang:monotonic_time(nanosecond) - T0, Bytes};
        {count, Other, _} -> erlang:error({lost_messages, Sent, Other})
    end;
run(msend, Server, Millis, Size, Max) ->
    Bin = binary:copy(<<"x">>, Size),
    T0 = erlang:monotonic_time(nanosecond),
    Deadline = T0 + Millis * 1000000,
    Self = self(),
    Pids = [spawn_link(fun() -> Self ! {sent, self(), send({sink, Server}, Bin, 0, Max div ?SENDERS, Deadline)} end)
            || _ <- lists:seq(1, ?SENDERS)],
    Sent = lists:sum([receive {sent, P, N} -> N end || P <- Pids]),
    {sink, Server} ! {done, self()},
    receive
        {count, Sent, Bytes} -> {Sent, erlang:monotonic_time(nanosecond) - T0, Bytes};
        {count, Other, _} -> erlang:error({lost_messages, Sent, Other})
    end;
run(flood, Server, Millis, Size, Max) ->
    T0 = erlang:monotonic_time(nanosecond),
    {flooder, Server} ! {flood, self(), Size, Max, Millis},
    {N, Bytes} = drain(0, 0),
    {N, erlang:monotonic_time(nanosecond) - T0, Bytes}.

pingpong(_, Max, Max, _) -> Max;
pingpong(Echo, I, Max, Deadline) ->
    Echo ! {self(), hello},
    receive hello -> ok end,
    case I band 15 =:= 15 andalso erlang:monotonic_time(nanosecond) >= Deadline of
        true -> I + 1;
        false -> pingpong(Echo, I + 1, Max, Deadline)
    end.

send(_, _, Max, Max, _) -> Max;
send(Sink, Bin, I, Max, Deadline) ->
    Sink ! {seq, I, Bin},
    case I band 15 =:= 15 andalso erlang:monotonic_time(nanosecond) >= Deadline of
        true -> I + 1;
        false -> send(Sink, Bin, I + 1, Max, Deadline)
    end.

drain(N, Bytes) ->
    receive
        {seq, _, Bin} -> drain(N + 1, Bytes + byte_size(Bin));
        {flood_done, N} -> {N, Bytes};
        {flood_done, Sent} -> erlang:error({lost_messages, Sent, N})
    end.
