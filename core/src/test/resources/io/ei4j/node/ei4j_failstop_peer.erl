%% Helpers of FailStopInteropTest, called through rex: watch a Java node, call a Java
%% function with erpc, flood a Java mailbox.
-module(ei4j_failstop_peer).
-export([watch_node/1, erpc_async/3, flood/2]).

%% A process that monitors Node (connecting if need be) and prints "nodedown Node" when
%% the connection goes; returns once the monitor is set.
watch_node(Node) ->
    Parent = self(),
    P = spawn(fun() ->
                      Up = net_kernel:connect_node(Node),
                      monitor_node(Node, true),
                      Parent ! {ready, self(), Up},
                      receive
                          {nodedown, Node} -> io:format("nodedown ~s~n", [Node])
                      end
              end),
    receive {ready, P, Up} -> Up end.

%% Calls Node's M:F() with erpc from a fresh process and prints the outcome.
erpc_async(Node, M, F) ->
    spawn(fun() ->
                  R = (catch erpc:call(Node, M, F, [], 20000)),
                  io:format("erpc result ~0p~n", [R])
          end),
    ok.

%% Sends Size-byte binaries to Dest (a pid or {Name, Node}) until the connection goes.
flood(Dest, Size) ->
    Node = case Dest of {_, N} -> N; P when is_pid(P) -> node(P) end,
    spawn(fun() ->
                  monitor_node(Node, true),
                  flood_loop(Dest, Node, binary:copy(<<7>>, Size), 0)
          end),
    ok.

flood_loop(Dest, Node, Bin, N) ->
    receive
        {nodedown, Node} -> io:format("flood stopped after ~w messages~n", [N])
    after 0 ->
            Dest ! {N, Bin},
            flood_loop(Dest, Node, Bin, N + 1)
    end.
