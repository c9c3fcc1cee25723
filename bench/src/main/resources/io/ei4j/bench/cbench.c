/*
 * The C ei client of ei4j's side-by-side benchmark, compiled by the harness against
 * erl_interface's libei.a. Usage:
 *
 *   cbench MODE SERVER_NODE COOKIE WARMUP_MS MILLIS SIZE MAX
 *
 * MODE is pingpong, send, msend or flood, with the same messages as bench_peer.erl's
 * client; msend is send from SENDERS (4) threads at once over the one connection (a mutex
 * around each ei_reg_send, as a connection's writer lock), then one {done, Self}.
 * The RESULT line ends with the CPU time of the process over the timed run
 * (CLOCK_PROCESS_CPUTIME_ID, user and system, all threads).
 * The cookie is read from the environment variable EI4J_BENCH_COOKIE when COOKIE is "-".
 * Prints "RESULT Count Nanos Bytes"; on failure prints "FAIL ..." to stderr, exits 1.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <pthread.h>
#include "ei.h"

#define SENDERS 4

static ei_cnode ec;
static int fd;
static ei_x_buff rx;
static ei_x_buff tx;
static char *bin_buf;

static int fail(const char *what) {
    fprintf(stderr, "FAIL %s erl_errno=%d\n", what, erl_errno);
    fflush(stderr);
    exit(1);
}

static long long clock_ns(clockid_t id) {
    struct timespec ts;
    clock_gettime(id, &ts);
    return (long long) ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static long long now_ns(void) {
    return clock_ns(CLOCK_MONOTONIC);
}

/* The next message (not a tick) into rx; its index is left after the version byte. */
static void receive_msg(erlang_msg *msg) {
    for (;;) {
        int r = ei_xreceive_msg_tmo(fd, msg, &rx, 30000);
        if (r == ERL_TICK) continue;
        if (r == ERL_ERROR) fail("ei_xreceive_msg");
        if (msg->msgtype != ERL_SEND && msg->msgtype != ERL_REG_SEND) continue;
        rx.index = 0;
        int version;
        if (ei_decode_version(rx.buff, &rx.index, &version) < 0) fail("ei_decode_version");
        return;
    }
}

static void expect_atom(const char *want) {
    char atom[MAXATOMLEN_UTF8];
    if (ei_decode_atom(rx.buff, &rx.index, atom) < 0 || strcmp(atom, want) != 0) fail(want);
}

static long long pingpong(long long millis, long long max, long long *count) {
    erlang_msg msg;
    long long t0 = now_ns(), deadline = t0 + millis * 1000000LL, n = 0;
    while (n < max) {
        tx.index = 0;
        ei_x_encode_version(&tx);
        ei_x_encode_tuple_header(&tx, 2);
        ei_x_encode_pid(&tx, ei_self(&ec));
        ei_x_encode_atom(&tx, "hello");
        if (ei_reg_send(&ec, fd, "echo", tx.buff, tx.index) < 0) fail("ei_reg_send echo");
        receive_msg(&msg);
        expect_atom("hello");
        n++;
        if ((n & 15) == 0 && now_ns() >= deadline) break;
    }
    *count = n;
    return now_ns() - t0;
}

static long long send_seq(long long millis, long size, long long max, long long *count, long long *bytes) {
    erlang_msg msg;
    long long t0 = now_ns(), deadline = t0 + millis * 1000000LL, n = 0;
    while (n < max) {
        tx.index = 0;
        ei_x_encode_version(&tx);
        ei_x_encode_tuple_header(&tx, 3);
        ei_x_encode_atom(&tx, "seq");
        ei_x_encode_longlong(&tx, n);
        ei_x_encode_binary(&tx, bin_buf, size);
        if (ei_reg_send(&ec, fd, "sink", tx.buff, tx.index) < 0) fail("ei_reg_send sink");
        n++;
        if ((n & 15) == 0 && now_ns() >= deadline) break;
    }
    tx.index = 0;
    ei_x_encode_version(&tx);
    ei_x_encode_tuple_header(&tx, 2);
    ei_x_encode_atom(&tx, "done");
    ei_x_encode_pid(&tx, ei_self(&ec));
    if (ei_reg_send(&ec, fd, "sink", tx.buff, tx.index) < 0) fail("ei_reg_send done");
    receive_msg(&msg);
    int arity;
    long long got, b;
    if (ei_decode_tuple_header(rx.buff, &rx.index, &arity) < 0 || arity != 3) fail("count tuple");
    expect_atom("count");
    if (ei_decode_longlong(rx.buff, &rx.index, &got) < 0 || got != n) fail("count mismatch");
    if (ei_decode_longlong(rx.buff, &rx.index, &b) < 0) fail("count bytes");
    *count = n;
    *bytes = b;
    return now_ns() - t0;
}

static pthread_mutex_t send_lock = PTHREAD_MUTEX_INITIALIZER;

struct sender {
    pthread_t thread;
    long long deadline, max, sent;
    long size;
};

static void *sender_main(void *arg) {
    struct sender *s = arg;
    ei_x_buff b;
    if (ei_x_new(&b) < 0) fail("ei_x_new");
    long long n = 0;
    while (n < s->max) {
        b.index = 0;
        ei_x_encode_version(&b);
        ei_x_encode_tuple_header(&b, 3);
        ei_x_encode_atom(&b, "seq");
        ei_x_encode_longlong(&b, n);
        ei_x_encode_binary(&b, bin_buf, s->size);
        pthread_mutex_lock(&send_lock);
        int r = ei_reg_send(&ec, fd, "sink", b.buff, b.index);
        pthread_mutex_unlock(&send_lock);
        if (r < 0) fail("ei_reg_send sink");
        n++;
        if ((n & 15) == 0 && now_ns() >= s->deadline) break;
    }
    s->sent = n;
    ei_x_free(&b);
    return NULL;
}

static long long msend(long long millis, long size, long long max, long long *count, long long *bytes) {
    erlang_msg msg;
    struct sender s[SENDERS];
    long long t0 = now_ns(), n = 0;
    for (int i = 0; i < SENDERS; i++) {
        s[i].deadline = t0 + millis * 1000000LL;
        s[i].max = max / SENDERS;
        s[i].size = size;
        s[i].sent = 0;
        if (pthread_create(&s[i].thread, NULL, sender_main, &s[i]) != 0) fail("pthread_create");
    }
    for (int i = 0; i < SENDERS; i++) {
        pthread_join(s[i].thread, NULL);
        n += s[i].sent;
    }
    tx.index = 0;
    ei_x_encode_version(&tx);
    ei_x_encode_tuple_header(&tx, 2);
    ei_x_encode_atom(&tx, "done");
    ei_x_encode_pid(&tx, ei_self(&ec));
    if (ei_reg_send(&ec, fd, "sink", tx.buff, tx.index) < 0) fail("ei_reg_send done");
    receive_msg(&msg);
    int arity;
    long long got, b;
    if (ei_decode_tuple_header(rx.buff, &rx.index, &arity) < 0 || arity != 3) fail("count tuple");
    expect_atom("count");
    if (ei_decode_longlong(rx.buff, &rx.index, &got) < 0 || got != n) fail("count mismatch");
    if (ei_decode_longlong(rx.buff, &rx.index, &b) < 0) fail("count bytes");
    *count = n;
    *bytes = b;
    return now_ns() - t0;
}

static long long flood(long long millis, long size, long long max, long long *count, long long *bytes) {
    erlang_msg msg;
    long long t0 = now_ns(), n = 0, b = 0;
    tx.index = 0;
    ei_x_encode_version(&tx);
    ei_x_encode_tuple_header(&tx, 5);
    ei_x_encode_atom(&tx, "flood");
    ei_x_encode_pid(&tx, ei_self(&ec));
    ei_x_encode_long(&tx, size);
    ei_x_encode_longlong(&tx, max);
    ei_x_encode_longlong(&tx, millis);
    if (ei_reg_send(&ec, fd, "flooder", tx.buff, tx.index) < 0) fail("ei_reg_send flooder");
    for (;;) {
        receive_msg(&msg);
        int arity;
        char atom[MAXATOMLEN_UTF8];
        if (ei_decode_tuple_header(rx.buff, &rx.index, &arity) < 0) fail("flood tuple");
        if (ei_decode_atom(rx.buff, &rx.index, atom) < 0) fail("flood atom");
        if (arity == 3 && strcmp(atom, "seq") == 0) {
            long long seq;
            long len;
            if (ei_decode_longlong(rx.buff, &rx.index, &seq) < 0) fail("flood seq");
            if (ei_decode_binary(rx.buff, &rx.index, bin_buf, &len) < 0) fail("flood binary");
            n++;
            b += len;
        } else if (arity == 2 && strcmp(atom, "flood_done") == 0) {
            long long sent;
            if (ei_decode_longlong(rx.buff, &rx.index, &sent) < 0 || sent != n) fail("flood count mismatch");
            break;
        } else {
            fail("unexpected message");
        }
    }
    *count = n;
    *bytes = b;
    return now_ns() - t0;
}

static long long run(const char *mode, long long millis, long size, long long max, long long *count, long long *bytes) {
    *bytes = 0;
    if (strcmp(mode, "pingpong") == 0) return pingpong(millis, max, count);
    if (strcmp(mode, "send") == 0) return send_seq(millis, size, max, count, bytes);
    if (strcmp(mode, "msend") == 0) return msend(millis, size, max, count, bytes);
    if (strcmp(mode, "flood") == 0) return flood(millis, size, max, count, bytes);
    fail("unknown mode");
    return 0;
}

int main(int argc, char **argv) {
    if (argc != 8) {
        fprintf(stderr, "usage: cbench MODE SERVER_NODE COOKIE WARMUP_MS MILLIS SIZE MAX\n");
        return 2;
    }
    const char *mode = argv[1];
    const char *cookie = strcmp(argv[3], "-") == 0 ? getenv("EI4J_BENCH_COOKIE") : argv[3];
    long long warmup = atoll(argv[4]), millis = atoll(argv[5]), max = atoll(argv[7]);
    long size = atol(argv[6]);
    if (cookie == NULL) fail("no cookie");
    bin_buf = malloc(size > 0 ? size : 1);
    if (bin_buf == NULL) fail("malloc");
    memset(bin_buf, 'x', size);
    ei_init();
    if (ei_x_new(&rx) < 0 || ei_x_new(&tx) < 0) fail("ei_x_new");
    char name[64];
    snprintf(name, sizeof name, "cbench%ld", (long) getpid());
    if (ei_connect_init(&ec, name, cookie, 0) < 0) fail("ei_connect_init");
    fd = ei_connect_tmo(&ec, (char *) argv[2], 10000);
    if (fd < 0) fail("ei_connect");
    long long count, bytes;
    run(mode, warmup, size, max, &count, &bytes);
    long long cpu0 = clock_ns(CLOCK_PROCESS_CPUTIME_ID);
    long long nanos = run(mode, millis, size, max, &count, &bytes);
    long long cpu = clock_ns(CLOCK_PROCESS_CPUTIME_ID) - cpu0;
    printf("RESULT %lld %lld %lld %lld\n", count, nanos, bytes, cpu);
    fflush(stdout);
    ei_close_connection(fd);
    return 0;
}
