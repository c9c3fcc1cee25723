%% A node for the AF_UNIX interop tests: a registered echo process and a
%% command loop on standard input, so that the Java test can make this node
%% start connections itself (Java -> stdin line -> Erlang -> Java node).
-module(uds_peer).
-export([start/0]).

start() ->
    register(echo, spawn(fun echo/0)),
    spawn(fun commands/0),
    io:format("ready ~s creation ~p~n", [node(), erlang:system_info(creation)]).

%% {From, Msg} -> From ! {echo, self(), Msg}
echo() ->
    receive
        {From, Msg} when is_pid(From) ->
            From ! {echo, self(), Msg},
            echo();
        _ ->
            echo()
    end.

commands() ->
    case io:get_line("") of
        eof ->
            erlang:halt();
        Line ->
            command(string:lexemes(string:trim(Line), " ")),
            commands()
    end.

command(["ping", Node]) ->
    io:format("ping ~s ~p~n", [Node, net_adm:ping(list_to_atom(Node))]);
command(["send", Node, Name]) ->
    {list_to_atom(Name), list_to_atom(Node)} ! {hello, self(), node()},
    io:format("sent ~s~n", [Name]);
command(["hidden"]) ->
    io:format("hidden ~p~n", [nodes(hidden)]);
command(Other) ->
    io:format("unknown command ~p~n", [Other]).
