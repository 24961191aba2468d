/* SPDX-License-Identifier: BSD-3-Clause
 *
 * Delivery-node policy and the names of actions and methods (store.h).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store_priv.h"

static const char *const action_names[] = {
	[OR_ACT_OPTIN] = "optin",
	[OR_ACT_OPTOUT] = "optout",
	[OR_ACT_ERASE] = "erase",
	[OR_ACT_KEY] = "key",
	[OR_ACT_ROTATE] = "rotate",
	[OR_ACT_RETIRE] = "retire",
};

static const char *const method_names[] = {
	[OR_METHOD_APP] = "app",
	[OR_METHOD_SEALED] = "sealed",
	[OR_METHOD_PROVISIONING] = "provisioning",
	[OR_METHOD_IMPORT] = "import",
	[OR_METHOD_OPERATOR] = "operator",
};

#define N_ELEM(a) (sizeof(a) / sizeof((a)[0]))

static const char *
name_of(const char *const *names, size_t n, unsigned v)
{
	return v < n ? names[v] : NULL;
}

static int
parse_name(const char *const *names, size_t n, const char *s, uint8_t *out)
{
	for (size_t i = 1; s != NULL && i < n; i++)
		if (names[i] != NULL && strcmp(names[i], s) == 0) {
			*out = (uint8_t)i;
			return 0;
		}
	return -EINVAL;
}

const char *
or_action_name(unsigned action)
{
	return name_of(action_names, N_ELEM(action_names), action);
}

const char *
or_method_name(unsigned method)
{
	return name_of(method_names, N_ELEM(method_names), method);
}

int
or_action_parse(const char *s, uint8_t *out)
{
	return parse_name(action_names, N_ELEM(action_names), s, out);
}

int
or_method_parse(const char *s, uint8_t *out)
{
	return parse_name(method_names, N_ELEM(method_names), s, out);
}

/* Decimal 0..max, nothing else. */
static int
parse_uint(const char *s, unsigned long max, unsigned long *out)
{
	char *end;

	if (*s < '0' || *s > '9')
		return -EINVAL;
	errno = 0;
	*out = strtoul(s, &end, 10);
	if (errno != 0 || *end != '\0' || *out > max)
		return -EINVAL;
	return 0;
}

int
or_node_policy_parse(const char *s, struct or_node_policy *out,
		     struct or_err *err)
{
	unsigned long v;
	size_t wlen;

	if (s == NULL)
		goto bad;
	wlen = strcspn(s, " :");
	if (s[wlen] == '\0')
		goto bad;
	memset(out, 0, sizeof(*out));
	if (wlen == 4 && strncmp(s, "hash", 4) == 0) {
		if (parse_uint(s + wlen + 1, OR_NODE_MAX + 1ul, &v) < 0 ||
		    v == 0) {
			or_err_set(err, "node policy: hash needs a node count 1..%u",
				   OR_NODE_MAX + 1u);
			return -EINVAL;
		}
		out->kind = OR_NODE_POLICY_HASH;
		out->n_nodes = (uint32_t)v;
		return 0;
	}
	if (wlen == 5 && strncmp(s, "fixed", 5) == 0) {
		if (parse_uint(s + wlen + 1, OR_NODE_MAX, &v) < 0) {
			or_err_set(err, "node policy: fixed needs a node id 0..%u",
				   OR_NODE_MAX);
			return -EINVAL;
		}
		out->kind = OR_NODE_POLICY_FIXED;
		out->node = (uint16_t)v;
		return 0;
	}
bad:
	or_err_set(err, "node policy must be 'hash N' or 'fixed N'");
	return -EINVAL;
}

void
or_node_policy_format(const struct or_node_policy *p, char *buf, size_t len)
{
	if (p->kind == OR_NODE_POLICY_HASH)
		snprintf(buf, len, "hash %u", (unsigned)p->n_nodes);
	else
		snprintf(buf, len, "fixed %u", (unsigned)p->node);
}

uint16_t
or_node_pick(const struct or_node_policy *p, const struct or_token *t)
{
	/* Tokens are keyed hashes, hence uniform: their first 8 bytes are a
	 * fine hash. The choice is stable for a token as long as n_nodes is. */
	if (p->kind == OR_NODE_POLICY_HASH)
		return (uint16_t)(or_get_le64(t->b) % p->n_nodes);
	return p->node;
}
