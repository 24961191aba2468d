/* A scripted fake dataplane for tests of the channel's client side
 * (control/lib/chan_client.c, control/daemon/dplink/): it listens on a
 * Unix SOCK_SEQPACKET path and plays the same script to every connection,
 * so a test can send what a real dataplane never would (an ERROR with any
 * code, at any point). See test_fake_dp.c. */
#ifndef TEST_FAKE_DP_H
#define TEST_FAKE_DP_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include "optroute/chan.h"

#define TF_STEPS_MAX 8

struct tf_step {
	int recv;      /* 1: wait for one message from the client */
	size_t len;    /* else send msg[0..len) */
	_Alignas(8) uint8_t msg[sizeof(struct or_chan_error)];
};

struct tf_dp {
	char dir[64];
	char path[96];
	int lfd;
	pthread_t th;
	int stop;        /* atomic */
	unsigned served; /* atomic: connections played to the end and closed */
	unsigned n_steps;
	struct tf_step steps[TF_STEPS_MAX];
};

/* A listening SOCK_SEQPACKET socket at dir/dp.sock in a new temporary
 * directory made from tmpl ("/tmp/NAME.XXXXXX"); dir and path are filled
 * in (sizes as in struct tf_dp). Returns the socket; fails the test on any
 * error. For this fake and for others (test_cp_link.c). */
int tf_listen(char dir[64], char path[96], const char *tmpl);
/* Closes it and removes the socket file and the directory. */
void tf_unlisten(int lfd, const char *path, const char *dir);

/* Script steps, added before tf_dp_start. */
void tf_dp_send_error(struct tf_dp *d, uint32_t code);
void tf_dp_send_hello(struct tf_dp *d);
void tf_dp_send_ack(struct tf_dp *d, uint64_t seq);
void tf_dp_recv(struct tf_dp *d);

/* Listens in a new temporary directory and starts serving (after the
 * script, each connection stays open until the client closes it). */
void tf_dp_start(struct tf_dp *d);
/* Waits up to 5 s until at least n connections were served: 0 or -1. */
int tf_dp_wait_served(struct tf_dp *d, unsigned n);
void tf_dp_stop(struct tf_dp *d);

#endif
