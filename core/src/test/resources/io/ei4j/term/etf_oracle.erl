%% Test oracle for ei4j's term codec: generates random terms, encodes them with
%% term_to_binary, and checks what ei4j decoded and re-encoded.
%%
%% Record files are sequences of <<Kind:8, Len:32, Bytes:Len/binary>>.
%% Kind selects the term_to_binary options (see opts/1).
-module(etf_oracle).
-export([generate/3, check/1, check_atoms/1]).

opts(0) -> [{minor_version, 2}];
opts(1) -> [compressed, {minor_version, 2}];
opts(2) -> [{minor_version, 1}];
opts(3) -> [{minor_version, 0}];
opts(4) -> [{compressed, 9}, {minor_version, 2}].

%% Writes terms.bin (Count terms), pairs.bin (Count div 2 pairs with Erlang's
%% verdict) and strings.bin (the ~w text of some terms) into Dir.
generate(Dir, Seed, Count) ->
    rand:seed(exsss, {Seed, Seed * 7 + 1, Seed * 13 + 2}),
    put(local_port, hd(erlang:ports())),
    Terms = [term(rand:uniform(6)) || _ <- lists:seq(1, Count)],
    ok = file:write_file(filename:join(Dir, "terms.bin"),
                         [record(kind(), T) || T <- Terms]),
    %% Judged on decoded copies: OTP 25 can order a large map built in memory
    %% differently from an equal map decoded from its external form.
    Pairs = [binary_to_term(term_to_binary(pair())) || _ <- lists:seq(1, Count div 2)],
    ok = file:write_file(filename:join(Dir, "pairs.bin"),
                         [[record(0, {A, B}), verdict(A, B)] || {A, B} <- Pairs]),
    ok.

kind() ->
    case rand:uniform(10) of
        1 -> 1;
        2 -> 2;
        3 -> 3;
        4 -> 4;
        _ -> 0
    end.

record(Kind, T) ->
    B = term_to_binary(T, opts(Kind)),
    [<<Kind:8, (byte_size(B)):32>>, B].

%% 0: =:=; 1: A < B; 2: A > B; 3: A == B, A first in map key order; 4: B first.
verdict(A, B) when A =:= B -> 0;
verdict(A, B) when A < B -> 1;
verdict(A, B) when A > B -> 2;
verdict(A, B) ->
    case maps:keys(#{A => 1, B => 2}) of
        [K | _] when K =:= A -> 3;
        _ -> 4
    end.

%% Pairs hold no map over 32 entries: OTP 25's large maps (HAMTs) compare by
%% their internal structure, so two equal large maps built in a different
%% order, or a large map and its own term_to_binary copy, can compare unequal.
pair() ->
    P = pair0(),
    case canonical(P) of
        true -> P;
        false -> pair()
    end.

pair0() ->
    A = term(rand:uniform(4)),
    case rand:uniform(4) of
        1 -> {A, term(rand:uniform(4))};
        2 -> {A, binary_to_term(term_to_binary(A))};
        _ -> {A, mutate(A)}
    end.

%% A term that differs from T in one place, often only in an integer/float swap.
mutate(T) when is_integer(T), abs(T) < 1 bsl 53 -> float(T);
mutate(T) when is_float(T), T == trunc(T) -> trunc(T);
mutate(T) when is_tuple(T), tuple_size(T) > 0 ->
    I = rand:uniform(tuple_size(T)),
    setelement(I, T, mutate(element(I, T)));
mutate([H | T]) ->
    case rand:uniform(2) of
        1 -> [mutate(H) | T];
        2 -> [H | mutate(T)]
    end;
mutate(M) when is_map(M), map_size(M) > 0 ->
    Ks = maps:keys(M),
    K = lists:nth(rand:uniform(length(Ks)), Ks),
    case rand:uniform(2) of
        1 -> M#{K := mutate(maps:get(K, M))};
        2 -> maps:put(mutate(K), maps:get(K, M), maps:remove(K, M))
    end;
mutate(_) ->
    leaf().

term(0) -> leaf();
term(D) ->
    case rand:uniform(12) of
        1 -> list_to_tuple([term(D - 1) || _ <- lists:seq(1, rand:uniform(5) - 1)]);
        2 -> [term(D - 1) || _ <- lists:seq(1, rand:uniform(5) - 1)];
        3 -> improper(D);
        4 -> maps:from_list([{term(D - 1), term(D - 1)} || _ <- lists:seq(1, rand:uniform(5) - 1)]);
        5 -> closure(D);
        6 when D > 3 -> big_compound(D);
        _ -> leaf()
    end.

improper(D) ->
    Tail = case rand:uniform(3) of
               1 -> leaf();
               2 -> bits();
               3 -> {term(D - 1)}
           end,
    lists:foldl(fun(E, Acc) -> [E | Acc] end, Tail,
                [term(D - 1) || _ <- lists:seq(1, rand:uniform(3))]).

big_compound(D) ->
    case rand:uniform(4) of
        4 -> lists:duplicate(65534 + rand:uniform(3), rand:uniform(256) - 1);
        1 -> list_to_tuple([leaf() || _ <- lists:seq(1, 256 + rand:uniform(40))]);
        2 -> maps:from_list([{large_map_key(), term(D - 3)} || _ <- lists:seq(1, 30 + rand:uniform(10))]);
        3 -> [rand:uniform(256) - 1 || _ <- lists:seq(1, 300)]
    end.

closure(D) ->
    X = term(D - 1),
    case rand:uniform(4) of
        1 -> fun() -> X end;
        2 -> fun(A) -> {A, X} end;
        3 -> Y = term(D - 1), fun(A, B) -> [A, B, X, Y] end;
        4 -> fun(A) -> A + 1 end
    end.

leaf() ->
    case rand:uniform(20) of
        1 -> rand:uniform(256) - 1;
        2 -> rand:uniform(1 bsl 32) - (1 bsl 31);
        3 -> edge_integer();
        4 -> big();
        5 -> float_value();
        6 -> atom();
        7 -> atom();
        8 -> rand:bytes(rand:uniform(20) - 1);
        9 -> printable_binary();
        10 -> bits();
        11 -> [rand:uniform(256) - 1 || _ <- lists:seq(1, rand:uniform(10))];
        12 -> pid();
        13 -> port();
        14 -> ref();
        15 -> export_fun();
        16 -> [];
        17 -> {};
        18 -> #{};
        19 -> float(rand:uniform(2000) - 1000);
        20 -> rand:uniform(2000) - 1000
    end.

%% OTP 25 (erts 13.1.5) crashes with a segmentation fault in maps:from_list/1
%% when a map of more than 32 keys has two external references of 5 id words
%% among its keys (e.g. ids [1,1,0,125,2] and [1,1,0,1,3] of any node), so such
%% references are kept out of large maps' keys.
large_map_key() ->
    K = leaf(),
    case is_reference(K) andalso node(K) =/= node() of
        true -> make_ref();
        false -> K
    end.

edge_integer() ->
    E = lists:nth(rand:uniform(14), [0, 255, 256, -1, -128, 1 bsl 31, (1 bsl 31) - 1, -(1 bsl 31),
                                     -(1 bsl 31) - 1, 1 bsl 32, (1 bsl 63) - 1, 1 bsl 63,
                                     -(1 bsl 63), 1 bsl 64]),
    E + rand:uniform(3) - 2.

big() ->
    Bits = case rand:uniform(10) of
               1 -> 2040 + rand:uniform(40);
               _ -> 33 + rand:uniform(200)
           end,
    V = binary:decode_unsigned(rand:bytes((Bits + 7) div 8)),
    case rand:uniform(2) of 1 -> V; 2 -> -V end.

float_value() ->
    case rand:uniform(8) of
        1 -> 0.0;
        2 -> -0.0;
        3 -> lists:nth(rand:uniform(6), [1.7976931348623157e308, 5.0e-324, 2.2250738585072014e-308,
                                         0.1, 1.0e15, 9007199254740993.0]);
        4 -> float(1 bsl 53) + rand:uniform(10) * 2.0;
        _ -> <<F:64/float>> = <<(rand:uniform(16#7FE) bsl 52 + rand:uniform(1 bsl 52) - 1):64>>,
             case rand:uniform(2) of 1 -> F; 2 -> -F end
    end.

atom() ->
    Chars = case rand:uniform(6) of
                1 -> [rand:uniform(26) + 96 || _ <- lists:seq(1, rand:uniform(12))];
                2 -> [rand:uniform(95) + 31 || _ <- lists:seq(1, rand:uniform(12) - 1)];
                3 -> [rand:uniform(255) || _ <- lists:seq(1, rand:uniform(20))];
                4 -> [unicode_char() || _ <- lists:seq(1, rand:uniform(10))];
                5 -> [unicode_char() || _ <- lists:seq(1, 200 + rand:uniform(55))];
                6 -> atom_to_list(lists:nth(rand:uniform(6), [true, false, ok, 'hello world', 'don\'t', nonode@nohost]))
            end,
    list_to_atom(Chars).

unicode_char() ->
    case rand:uniform(4) of
        1 -> rand:uniform(16#7FF - 16#80) + 16#80;
        2 -> 16#4E00 + rand:uniform(1000);
        3 -> 16#1F600 + rand:uniform(50);
        4 -> rand:uniform(94) + 32
    end.

printable_binary() ->
    list_to_binary([rand:uniform(95) + 31 || _ <- lists:seq(1, rand:uniform(20))]).

bits() ->
    N = rand:uniform(7),
    B = rand:bytes(rand:uniform(5) - 1),
    <<B/binary, (rand:uniform(1 bsl N) - 1):N>>.

node_name() ->
    lists:nth(rand:uniform(5), ['a@b', 'peer@127.0.0.1', 'x_1@host', 'ünï@höst', nonode@nohost]).

ext_node() ->
    A = node_name(),
    case A of nonode@nohost -> 'other@host'; _ -> A end.

atom_ext(A) ->
    <<131, R/binary>> = term_to_binary(A, [{minor_version, 2}]),
    R.

u32() -> rand:uniform(1 bsl 32) - 1.
small_u32() -> lists:nth(rand:uniform(4), [0, 1, rand:uniform(1000), u32()]).

pid() ->
    case rand:uniform(3) of
        1 -> self();
        _ -> binary_to_term(<<131, 88, (atom_ext(ext_node()))/binary,
                              (small_u32()):32, (small_u32()):32, (small_u32()):32>>)
    end.

port() ->
    case rand:uniform(4) of
        1 -> get(local_port);
        2 -> binary_to_term(<<131, 120, (atom_ext(ext_node()))/binary,
                              (rand:uniform(1 bsl 64) - 1):64, (small_u32()):32>>);
        _ -> binary_to_term(<<131, 89, (atom_ext(ext_node()))/binary,
                              (small_u32()):32, (small_u32()):32>>)
    end.

ref() ->
    case rand:uniform(3) of
        1 -> make_ref();
        _ -> N = rand:uniform(5),
             %% The last id word is not 0: OTP 25 hashes references that differ only
             %% in trailing zero words differently though they are =:=, so large
             %% maps holding them compare inconsistently.
             binary_to_term(<<131, 90, N:16, (atom_ext(ext_node()))/binary, (small_u32()):32,
                              << <<(small_u32()):32>> || _ <- lists:seq(2, N) >>/binary,
                              (rand:uniform(1 bsl 32 - 1)):32>>)
    end.

export_fun() ->
    case rand:uniform(3) of
        1 -> fun lists:map/2;
        2 -> fun erlang:'+'/2;
        3 -> erlang:make_fun(atom(), atom(), rand:uniform(256) - 1)
    end.

%% Reads terms.bin and java.bin (ei4j's re-encoding of each term), and prints
%% one line per failure, then "checked N", and strings.bin (Kind 0 = must
%% parse and equal the term, Kind 1 = printed text of the pair's term).
check(Dir) ->
    {ok, Orig} = file:read_file(filename:join(Dir, "terms.bin")),
    {ok, Java} = file:read_file(filename:join(Dir, "java.bin")),
    {ok, Printed} = file:read_file(filename:join(Dir, "printed.bin")),
    {ok, Vectors} = file:read_file(filename:join(Dir, "vectors.bin")),
    Os = records(Orig),
    Js = records(Java),
    Ps = records(Printed),
    Vs = records(Vectors),
    length(Os) =:= length(Js) orelse fail("record count ~w vs ~w", [length(Os), length(Js)]),
    R1 = lists:zipwith(fun check_one/2, Os, Js),
    R2 = lists:zipwith(fun check_printed/2, Os, Ps),
    R3 = check_vectors(Vs),
    Failures = [F || F <- R1 ++ R2 ++ R3, F =/= ok],
    Out = [io_lib:format("~ts~n", [F]) || F <- lists:sublist(Failures, 20)],
    ok = file:write_file(filename:join(Dir, "result.txt"),
                         unicode:characters_to_binary(
                           [Out, io_lib:format("failures ~w checked ~w printed ~w vectors ~w~n",
                                               [length(Failures), length(R1),
                                                length([x || {1, _} <- Ps]), length(Vs) div 2])])).

fail(Fmt, Args) -> erlang:error({check_failed, lists:flatten(io_lib:format(Fmt, Args))}).

records(<<>>) -> [];
records(<<Kind:8, Len:32, B:Len/binary, Rest/binary>>) -> [{Kind, B} | records(Rest)].

check_one({Kind, OrigBin}, {Kind, JavaBin}) ->
    T = binary_to_term(OrigBin),
    J = (catch binary_to_term(JavaBin)),
    case same(J, T) of
        true ->
            Canonical = term_to_binary(T, opts(canonical_kind(Kind))),
            case canonical(T) andalso JavaBin =/= Canonical of
                true ->
                    At = binary:longest_common_prefix([Canonical, JavaBin]),
                    io_lib:format("bytes differ at offset ~w (kind ~w) for ~P:~n erlang ~w~n ei4j   ~w",
                                  [At, Kind, T, 30, context(Canonical, At), context(JavaBin, At)]);
                false -> ok
            end;
        false ->
            io_lib:format("not =:= after the round trip: ~w~n became ~w", [T, J])
    end;
check_one({K1, _}, {K2, _}) ->
    io_lib:format("kind mismatch ~w vs ~w", [K1, K2]).

context(B, At) ->
    From = max(0, At - 8),
    binary:part(B, From, min(byte_size(B) - From, 24)).

%% =:=, or equal once every map is a sorted list of pairs: OTP 25's =:= on large
%% maps depends on insertion order when keys collide in its internal hash, so
%% Erlang's own round trip of such a map is not always =:= (see pair/0).
same(A, B) -> A =:= B orelse norm(A) =:= norm(B).

norm(M) when is_map(M) ->
    {map, lists:sort(fun key_le/2, [{norm(K), norm(V)} || {K, V} <- maps:to_list(M)])};
norm(T) when is_tuple(T) -> list_to_tuple([norm(E) || E <- tuple_to_list(T)]);
norm([H | T]) -> [norm(H) | norm(T)];
norm(F) when is_function(F) ->
    case erlang:fun_info(F, type) of
        {type, local} ->
            {fun_, [erlang:fun_info(F, I) || I <- [module, new_index, new_uniq, index, uniq, arity]],
             norm(element(2, erlang:fun_info(F, env)))};
        _ -> F
    end;
norm(T) -> T.

key_le({K1, _}, {K2, _}) ->
    K1 < K2 orelse (K1 == K2 andalso term_to_binary(K1) =< term_to_binary(K2)).

canonical_kind(1) -> 1;
canonical_kind(4) -> 4;
canonical_kind(_) -> 0.

%% term_to_binary writes maps over 32 entries in hash order.
canonical(T) when is_map(T) ->
    map_size(T) =< 32 andalso lists:all(fun canonical/1, maps:keys(T) ++ maps:values(T));
canonical(T) when is_tuple(T) -> lists:all(fun canonical/1, tuple_to_list(T));
canonical([H | T]) -> canonical(H) andalso canonical(T);
canonical(F) when is_function(F) ->
    case erlang:fun_info(F, type) of
        {type, local} -> {env, Env} = erlang:fun_info(F, env), lists:all(fun canonical/1, Env);
        _ -> true
    end;
canonical(_) -> true.

check_printed({_, OrigBin}, {0, _}) ->
    binary_to_term(OrigBin), ok;
check_printed({_, OrigBin}, {1, Text}) ->
    T = binary_to_term(OrigBin),
    S = unicode:characters_to_list(Text),
    case erl_scan:string(S ++ ".") of
        {ok, Tokens, _} ->
            case catch erl_parse:parse_term(Tokens) of
                {ok, P} when P =:= T -> same_as_w(T, S);
                Other -> io_lib:format("erl_parse read ~ts~n as ~p, not ~w", [S, Other, T])
            end;
        Error ->
            io_lib:format("erl_scan rejected ~ts: ~p", [S, Error])
    end.

%% ei4j prints like ~w, except that it writes printable binaries as strings
%% (<<"abc">>, where ~w writes <<97,98,99>>), and ~w writes export funs
%% through fun_to_list/1, whose text is UTF-8 bytes rather than characters.
same_as_w(T, S) ->
    W = lists:flatten(io_lib:format("~w", [T])),
    Comparable = string:find(S, "<<\"") =:= nomatch andalso string:find(S, "fun ") =:= nomatch,
    case Comparable andalso S =/= W of
        true -> io_lib:format("printed ~ts where ~~w writes ~ts", [S, W]);
        false -> ok
    end.

check_vectors([{_, Input}, {_, JavaBin} | Rest]) ->
    R = case {catch binary_to_term(Input), catch binary_to_term(JavaBin)} of
            {A, B} when A =:= B -> ok;
            {A, B} -> io_lib:format("vector ~w: erlang reads ~w, ei4j's re-encoding ~w", [Input, A, B])
        end,
    [R | check_vectors(Rest)];
check_vectors([]) -> [].

%% File holds ei4j's encoding of [{Atom, Len}] for atoms of every length: 0..255
%% ASCII characters, then 1..255 code points of 2-, 3- and 4-byte UTF-8. Crashes
%% (badmatch) unless the bytes are term_to_binary's and decode to the same atoms.
check_atoms(File) ->
    {ok, Bin} = file:read_file(File),
    Ascii = [{list_to_atom(lists:duplicate(N, $a)), N} || N <- lists:seq(0, 255)],
    Wide = [{list_to_atom(lists:duplicate(K, C)), K}
            || C <- [16#E4, 16#20AC, 16#1F600], K <- lists:seq(1, 255)],
    Expected = Ascii ++ Wide,
    Expected = binary_to_term(Bin),
    Bin = term_to_binary(Expected, [{minor_version, 2}]),
    ok.
