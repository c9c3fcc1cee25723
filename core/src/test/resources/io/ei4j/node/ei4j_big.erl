%% Large and deep terms for LargeTermsInteropTest: sent from Erlang to Java, and measured
%% when Java sends them to the registered probe.
-module(ei4j_big).
-export([start/0, send_binary/2, send_deep/2]).

start() ->
    case whereis(big_probe) of
        undefined -> register(big_probe, spawn(fun loop/0)), ok;
        _ -> ok
    end.

loop() ->
    receive
        {From, T} -> From ! {probe, measure(T)}, loop()
    end.

measure(B) when is_binary(B) -> {binary, byte_size(B), binary:at(B, 0), binary:last(B)};
measure(L) when is_list(L) -> {depth, depth(L, 0)}.

depth([], N) -> N;
depth([X], N) -> depth(X, N + 1).

deep(N) -> lists:foldl(fun(_, Acc) -> [Acc] end, [], lists:seq(1, N)).

send_binary(To, Bytes) ->
    To ! {big, binary:copy(<<7>>, Bytes)},
    ok.

send_deep(To, N) ->
    To ! {deep, deep(N)},
    ok.
