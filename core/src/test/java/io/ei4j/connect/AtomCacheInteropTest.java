package io.ei4j.connect;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.ei4j.term.ErlAtom;
import io.ei4j.term.ErlInteger;
import io.ei4j.term.ErlList;
import io.ei4j.term.ErlPid;
import io.ei4j.term.ErlTerm;
import io.ei4j.term.ErlTuple;
import io.ei4j.testkit.ErlangPeer;
import io.ei4j.transport.tcp.TcpTransport;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code DFLAG_DIST_HDR_ATOM_CACHE} against a real Erlang node: 5,000 messages built from
 * 600 distinct atoms (more than one header's 255 references, so slots are refilled as
 * Erlang's cache evicts) arrive intact, most atoms as references to cache entries that an
 * earlier message's header filled; the control messages' own atoms (node names, the
 * registered name) come through the cache too; and the connection keeps working both ways.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class AtomCacheInteropTest {
  private static final String COOKIE = "ei4j_atom_cache";
  private static final int MESSAGES = 5_000;
  private static final int ATOMS = 600;
  private static final String MODULE = """
      -module(ei4j_atoms).
      -export([start/0]).
      start() -> register(atoms, spawn(fun loop/0)), io:format("ready~n").
      loop() ->
          receive
              {From, flood, N, K} ->
                  [From ! {seq, I, atom(I rem K), [atom((I * 7) rem K), atom((I * 13) rem K), ok]}
                   || I <- lists:seq(1, N)],
                  From ! done,
                  loop();
              {From, echo, T} ->
                  From ! {echoed, T},
                  loop()
          end.
      atom(I) -> list_to_atom("cached_atom_" ++ integer_to_list(I)).
      """;

  private static ErlAtom atom(long i) {
    return ErlAtom.of("cached_atom_" + i);
  }

  @Test
  void repeatedAtomsComeThroughTheCache(@TempDir Path dir) throws Exception {
    Path ebin = ErlangPeer.compile(dir, "ei4j_atoms", MODULE);
    try (ErlangPeer peer = ErlangPeer.builder().sname(ErlangPeer.uniqueName("atoms")).cookie(COOKIE)
            .codePath(ebin).eval("ei4j_atoms:start()").readyLine("^ready").start();
         EiNode node = EiNode.builder(ErlangPeer.uniqueName("java") + "@" + ErlangPeer.shortHostName())
             .cookie(COOKIE).transport(TcpTransport.create()).build();
         EiConnection c = node.connect(peer.nodeName(), 10_000)) {
      assertTrue(c.usesDistributionHeaders());
      ErlPid me = c.self();
      c.regSend(me, "atoms", ErlTuple.of(me, ErlAtom.of("flood"), ErlInteger.of(MESSAGES), ErlInteger.of(ATOMS)));
      for (long i = 1; i <= MESSAGES; i++) {
        EiMessage.Send m = assertInstanceOf(EiMessage.Send.class, c.receive(10_000));
        assertEquals(me, m.to());
        ErlTerm want = ErlTuple.of(ErlAtom.of("seq"), ErlInteger.of(i), atom(i % ATOMS),
            ErlList.of(atom(i * 7 % ATOMS), atom(i * 13 % ATOMS), ErlAtom.OK));
        assertEquals(want, m.message(), "message " + i);
      }
      assertEquals(ErlAtom.of("done"), ((EiMessage.Send) c.receive(10_000)).message());
      long filled = c.frameDecoder().newCacheEntries();
      long reused = c.frameDecoder().cachedReferences();
      assertTrue(filled >= ATOMS, "every distinct atom filled a cache entry at least once: " + filled);
      // Each message refers to at least 4 atoms plus its control message's; without a cache
      // that lives across messages every one of them would be a new entry.
      assertTrue(reused > 4L * MESSAGES, "most references hit entries filled by earlier messages: " + reused + " reused, " + filled + " filled");

      // Both directions still work, with atoms the cache has seen and ones it has not.
      List<ErlTerm> atoms = new ArrayList<>();
      for (int i = 0; i < 300; i++) {
        atoms.add(atom(i));
        atoms.add(ErlAtom.of("fresh_atom_" + i));
      }
      ErlList list = ErlList.of(atoms.toArray(new ErlTerm[0]));
      c.regSend(me, "atoms", ErlTuple.of(me, ErlAtom.of("echo"), list));
      assertEquals(ErlTuple.of(ErlAtom.of("echoed"), list), ((EiMessage.Send) c.receive(10_000)).message());
    }
  }
}
