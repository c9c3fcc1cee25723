/*
 * The server side of ei4j's benchmarks written with erl_interface (issue 21, "the
 * library's own ceiling"): a C node that publishes itself in EPMD, accepts any number of
 * connections and serves, by registered name, the same processes as bench_peer.erl:
 *
 *   echo - {From, Msg} -> Msg sent to From
 *   sink - counts {seq, N, Bin}; {done, From} -> {count, Count, Bytes} to From, then resets
 *
 * so that cbench measured against it gives C-ei-to-C-ei figures. One thread, poll(2) over
 * the listening socket and every connection; a connection is read one whole message at a
 * time (ei_xreceive_msg reads exactly one frame). Usage:
 *
 *   cpeer ALIVE
 *
 * with the cookie in the environment variable EI4J_BENCH_COOKIE; prints "ready NODE" and
 * exits when its standard input closes.
 */
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include "ei.h"

#define MAX_CONN 256

static ei_cnode ec;
static ei_x_buff rx, tx;
static long long sink_count, sink_bytes;

static void die(const char *what) {
    fprintf(stderr, "FAIL %s erl_errno=%d\n", what, erl_errno);
    fflush(stderr);
    exit(1);
}

/* Handles the message in rx (already received on fd); returns -1 when the connection must close. */
static int handle(int fd, erlang_msg *msg) {
    int index = 0, version, arity;
    if (msg->msgtype != ERL_REG_SEND) return 0;
    if (ei_decode_version(rx.buff, &index, &version) < 0) return 0;
    if (ei_decode_tuple_header(rx.buff, &index, &arity) < 0) return 0;
    if (strcmp(msg->toname, "echo") == 0 && arity == 2) {
        erlang_pid from;
        if (ei_decode_pid(rx.buff, &index, &from) < 0) return 0;
        int start = index;
        if (ei_skip_term(rx.buff, &index) < 0) return 0;
        tx.index = 0;
        ei_x_encode_version(&tx);
        ei_x_append_buf(&tx, rx.buff + start, index - start);
        return ei_send(fd, &from, tx.buff, tx.index) < 0 ? -1 : 0;
    }
    if (strcmp(msg->toname, "sink") == 0) {
        char atom[MAXATOMLEN_UTF8];
        if (ei_decode_atom(rx.buff, &index, atom) < 0) return 0;
        if (arity == 3 && strcmp(atom, "seq") == 0) {
            int type, size;
            if (ei_skip_term(rx.buff, &index) < 0) return 0;
            if (ei_get_type(rx.buff, &index, &type, &size) < 0 || type != ERL_BINARY_EXT) return 0;
            sink_count++;
            sink_bytes += size;
        } else if (arity == 2 && strcmp(atom, "done") == 0) {
            erlang_pid from;
            if (ei_decode_pid(rx.buff, &index, &from) < 0) return 0;
            tx.index = 0;
            ei_x_encode_version(&tx);
            ei_x_encode_tuple_header(&tx, 3);
            ei_x_encode_atom(&tx, "count");
            ei_x_encode_longlong(&tx, sink_count);
            ei_x_encode_longlong(&tx, sink_bytes);
            sink_count = 0;
            sink_bytes = 0;
            return ei_send(fd, &from, tx.buff, tx.index) < 0 ? -1 : 0;
        }
    }
    return 0;
}

int main(int argc, char **argv) {
    if (argc != 2) {
        fprintf(stderr, "usage: cpeer ALIVE\n");
        return 2;
    }
    const char *cookie = getenv("EI4J_BENCH_COOKIE");
    if (cookie == NULL) die("no cookie");
    char full[300];
    snprintf(full, sizeof full, "%s@localhost", argv[1]);
    struct in_addr addr;
    addr.s_addr = htonl(INADDR_LOOPBACK);
    ei_init();
    if (ei_x_new(&rx) < 0 || ei_x_new(&tx) < 0) die("ei_x_new");
    if (ei_connect_xinit(&ec, "localhost", argv[1], full, &addr, cookie, 0) < 0) die("ei_connect_xinit");
    int port = 0;
    int lfd = ei_listen(&ec, &port, 128);
    if (lfd < 0) die("ei_listen");
    if (ei_publish(&ec, port) < 0) die("ei_publish");
    printf("ready %s\n", full);
    fflush(stdout);

    struct pollfd fds[MAX_CONN + 2];
    int n = 2;
    fds[0].fd = 0;        /* standard input: closed by the harness when done */
    fds[0].events = POLLIN;
    fds[1].fd = lfd;
    fds[1].events = POLLIN;
    for (;;) {
        if (poll(fds, n, -1) < 0) die("poll");
        if (fds[0].revents) {
            char b[256];
            if (read(0, b, sizeof b) <= 0) return 0;
        }
        if ((fds[1].revents & POLLIN) && n < MAX_CONN + 2) {
            ErlConnect conp;
            int fd = ei_accept_tmo(&ec, lfd, &conp, 5000);
            if (fd >= 0) {
                fds[n].fd = fd;
                fds[n].events = POLLIN;
                fds[n].revents = 0;
                n++;
            }
        }
        for (int i = 2; i < n; i++) {
            if (!fds[i].revents) continue;
            erlang_msg msg;
            int r = ei_xreceive_msg_tmo(fds[i].fd, &msg, &rx, 30000);
            if (r == ERL_TICK) continue;
            if (r == ERL_ERROR || handle(fds[i].fd, &msg) < 0) {
                ei_close_connection(fds[i].fd);
                fds[i] = fds[n - 1];
                n--;
                i--;
            }
        }
    }
}
