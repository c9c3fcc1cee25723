%% The Erlang side of the samples' integration tests, driven line by line on stdin.
%%
%%   call NODE NAME KIND X   {NAME, NODE} ! {call, self(), {KIND, X}}; prints "reply R"
%%   echo NODE TERM          {echo, NODE} ! {self(), TERM}; prints "echo true R" when R is {echo, TERM}
%%   echoself NODE           as echo, with TERM = {self(), make_ref()}
%%   raw NODE NAME TERM      {NAME, NODE} ! TERM; prints "sent"
%%   hidden                  prints "hidden [Nodes]"
%%   eval EXPRS              evaluates Erlang expressions (no trailing dot); prints "result R"
%%
%% A process registered as inbox prints "inbox M" for every message M it gets.
-module(samples_peer).
-export([start/0]).

start() ->
    register(inbox, spawn(fun inbox/0)),
    io:format("ready ~s~n", [node()]),
    loop().

inbox() ->
    receive
        M -> io:format("inbox ~w~n", [M]), inbox()
    end.

loop() ->
    case io:get_line("") of
        eof -> halt();
        {error, _} -> halt();
        Line ->
            handle(string:lexemes(string:trim(Line), " ")),
            loop()
    end.

handle(["call", Node, Name, Kind, X]) ->
    {list_to_atom(Name), list_to_atom(Node)} ! {call, self(), {list_to_atom(Kind), list_to_integer(X)}},
    io:format("reply ~w~n", [await()]);
handle(["echo", Node | Words]) ->
    echo(Node, parse(lists:join(" ", Words)));
handle(["echoself", Node]) ->
    echo(Node, {self(), make_ref()});
handle(["raw", Node, Name | Words]) ->
    {list_to_atom(Name), list_to_atom(Node)} ! parse(lists:join(" ", Words)),
    io:format("sent~n");
handle(["eval" | Words]) ->
    {ok, Tokens, _} = erl_scan:string(lists:flatten(lists:join(" ", Words)) ++ "."),
    {ok, Exprs} = erl_parse:parse_exprs(Tokens),
    {value, R, _} = erl_eval:exprs(Exprs, erl_eval:new_bindings()),
    io:format("result ~w~n", [R]);
handle(["hidden"]) ->
    io:format("hidden ~w~n", [nodes(hidden)]);
handle(Other) ->
    io:format("unknown command ~p~n", [Other]).

echo(Node, Term) ->
    {echo, list_to_atom(Node)} ! {self(), Term},
    R = await(),
    io:format("echo ~w ~w~n", [R =:= {echo, Term}, R]).

await() ->
    receive R -> R after 5000 -> timeout end.

parse(Text) ->
    {ok, Tokens, _} = erl_scan:string(lists:flatten(Text) ++ "."),
    {ok, Term} = erl_parse:parse_term(Tokens),
    Term.
