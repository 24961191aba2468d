/* SPDX-License-Identifier: BSD-3-Clause
 *
 * A TCP listen address as the configuration gives it (common/listen/):
 * "PORT", "IPv4:PORT" or "[IPv6]:PORT", numeric (no name lookup). Used
 * by optroute-exporter's [exporter] listen. Pure; no state.
 */
#ifndef OPTROUTE_LISTEN_H
#define OPTROUTE_LISTEN_H

#include <sys/socket.h>

/* Longest text form of a listen address: "[v6addr]:65535". */
#define OR_LISTEN_STR_LEN 64

/* "PORT", "IPv4:PORT" or "[IPv6]:PORT" (PORT 1..65535; a bare port means
 * 127.0.0.1; dotted quads only) -> socket address. 0 or -EINVAL. */
int or_listen_parse(const char *s, struct sockaddr_storage *ss,
		    socklen_t *len);

/* 1 if the address is loopback (127.0.0.0/8, ::1, ::ffff:127.0.0.0/104). */
int or_listen_is_loopback(const struct sockaddr_storage *ss);

/* Text form of a socket address ("127.0.0.1:9140", "[::1]:9140"). */
void or_listen_str(const struct sockaddr_storage *ss,
		   char buf[OR_LISTEN_STR_LEN]);

#endif
