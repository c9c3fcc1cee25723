%% The Erlang side of MultiTransportTest: a registered process 'peer' that answers the
%% hub's hello and prints what the relay delivers, and a stdin loop the test drives.
-module(relay_peer).
-export([start/0]).

start() ->
    register(peer, spawn(fun loop/0)),
    spawn(fun stdin/0),
    io:format("ready ~s~n", [node()]).

loop() ->
    receive
        {hello, From} when is_pid(From) ->
            From ! {hi, node(), self()},
            io:format("hello ~s~n", [node(From)]);
        {from, Origin, Payload} ->
            io:format("got ~s ~w~n", [Origin, Payload]);
        _ ->
            ok
    end,
    loop().

stdin() ->
    case io:get_line("") of
        eof -> ok;
        {error, _} -> ok;
        Line ->
            case string:lexemes(string:trim(Line), " ") of
                ["relay", Hub, Target, Word] ->
                    {relay, list_to_atom(Hub)} ! {forward, list_to_atom(Target), {from, node(), list_to_atom(Word)}},
                    io:format("sent ~s ~s~n", [Target, Word]);
                ["ping", Node] ->
                    io:format("ping ~s ~p~n", [Node, net_adm:ping(list_to_atom(Node))]);
                ["wait_down", Node] ->
                    wait_down(list_to_atom(Node), 250),
                    io:format("down ~s ~w~n", [Node, lists:member(list_to_atom(Node), nodes(hidden))]);
                _ ->
                    io:format("what? ~s~n", [Line])
            end,
            stdin()
    end.

wait_down(_Node, 0) ->
    ok;
wait_down(Node, N) ->
    case lists:member(Node, nodes(hidden)) of
        true -> timer:sleep(20), wait_down(Node, N - 1);
        false -> ok
    end.
