/* Who may use the update channel (issue 14): the shared peer check
 * (include/optroute/peer.h), the [dataplane] channel_peer_uid/gid keys, and
 * the updater refusing a peer of another uid before reading anything from
 * it, counted in chan.refused_peer.
 *
 * The refusal tests fork children that take other credentials
 * (setresuid/setresgid/setgroups), so they need root; as another user they
 * pass with a note. The socket is made mode 0666 first, so the file's mode
 * lets everyone in and any refusal is the peer check's. */
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "optroute/peer.h"

#include "or_test.h"
#include "test_chan_util.h"
#include "dataplane/config.h"

#define OTHER_UID 65534u  /* nobody: refused unless configured */
#define PEER_UID 65533u   /* the configured peer */
#define PEER_GID 4242u

/* ------------------------------------------------------ the decision -- */

static void
test_allowed(void)
{
	const struct or_peer_allow none = { 0 };
	const struct or_peer_allow uid = { .has_uid = 1, .uid = PEER_UID };
	const struct or_peer_allow gid = { .has_gid = 1, .gid = PEER_GID };
	const gid_t other[] = { 10, 20 }, with[] = { 10, PEER_GID };
	struct ucred cr = { .uid = 0, .gid = 5 };

	/* Root and our own uid always. */
	CU_ASSERT_EQUAL(or_peer_allowed(&none, 1000, &cr, NULL, 0), 1);
	cr.uid = 1000;
	CU_ASSERT_EQUAL(or_peer_allowed(&none, 1000, &cr, NULL, 0), 1);
	/* Anyone else only through the policy. */
	cr.uid = OTHER_UID;
	CU_ASSERT_EQUAL(or_peer_allowed(&none, 1000, &cr, with, 2), 0);
	CU_ASSERT_EQUAL(or_peer_allowed(&uid, 1000, &cr, with, 2), 0);
	cr.uid = PEER_UID;
	CU_ASSERT_EQUAL(or_peer_allowed(&uid, 1000, &cr, NULL, 0), 1);
	CU_ASSERT_EQUAL(or_peer_allowed(&gid, 1000, &cr, other, 2), 0);
	/* The group: primary or supplementary. */
	cr.uid = OTHER_UID;
	CU_ASSERT_EQUAL(or_peer_allowed(&gid, 1000, &cr, with, 2), 1);
	CU_ASSERT_EQUAL(or_peer_allowed(&gid, 1000, &cr, with, 1), 0);
	cr.gid = PEER_GID;
	CU_ASSERT_EQUAL(or_peer_allowed(&gid, 1000, &cr, NULL, 0), 1);
	CU_ASSERT_EQUAL(or_peer_allowed(&uid, 1000, &cr, NULL, 0), 0);
}

static void
test_parse(void)
{
	uid_t u = 7;
	gid_t g = 7;

	CU_ASSERT(or_peer_uid_parse("0", &u) == 0 && u == 0);
	CU_ASSERT(or_peer_uid_parse("65533", &u) == 0 && u == 65533);
	CU_ASSERT(or_peer_uid_parse("4294967294", &u) == 0 &&
		  u == 4294967294u);
	CU_ASSERT(or_peer_uid_parse("root", &u) == 0 && u == 0);
	CU_ASSERT(or_peer_gid_parse("root", &g) == 0 && g == 0);
	CU_ASSERT(or_peer_gid_parse("4242", &g) == 0 && g == 4242);
	u = 7;
	g = 7;
	/* (uid_t)-1 means "no id" to the kernel; signs, blanks, unknown
	 * names: refused, *out untouched. */
	CU_ASSERT_EQUAL(or_peer_uid_parse("4294967295", &u), -EINVAL);
	CU_ASSERT_EQUAL(or_peer_uid_parse("-1", &u), -EINVAL);
	CU_ASSERT_EQUAL(or_peer_uid_parse("", &u), -EINVAL);
	CU_ASSERT_EQUAL(or_peer_uid_parse(" 0", &u), -EINVAL);
	CU_ASSERT_EQUAL(or_peer_uid_parse("no_such_user_or14", &u), -EINVAL);
	CU_ASSERT_EQUAL(or_peer_gid_parse("no_such_group_or14", &g), -EINVAL);
	CU_ASSERT_EQUAL(or_peer_gid_parse("0x10", &g), -EINVAL);
	CU_ASSERT(u == 7 && g == 7);
}

/* ----------------------------------------------------- configuration -- */

#define DP_INI(extra)                                                        \
	"[eal]\nmain_lcore = 0\n[dataplane]\n" extra                         \
	"[port p]\ndevice = net_null0\nworkers = 1\nip = 192.0.2.1\n"

static void
test_config(void)
{
	struct or_cfg cfg;
	int has_default = getpwnam(OR_CFG_DEFAULT_CHAN_PEER_USER) != NULL;

	CU_ASSERT_EQUAL_FATAL(or_cfg_load_string(&cfg, "p.ini",
		DP_INI("channel_peer_uid = 65533\nchannel_peer_gid = root\n")),
		0);
	CU_ASSERT(cfg.chan_peer.has_uid && cfg.chan_peer.uid == PEER_UID);
	CU_ASSERT(cfg.chan_peer.has_gid && cfg.chan_peer.gid == 0);
	CU_ASSERT_EQUAL(cfg.chan_peer_uid_default, 0);
	or_cfg_free(&cfg);

	/* Not given: the shipped units' control-plane user, if it exists. */
	CU_ASSERT_EQUAL_FATAL(or_cfg_load_string(&cfg, "p.ini", DP_INI("")),
			      0);
	CU_ASSERT_EQUAL(cfg.chan_peer.has_uid, has_default);
	CU_ASSERT_EQUAL(cfg.chan_peer_uid_default, has_default);
	CU_ASSERT_EQUAL(cfg.chan_peer.has_gid, 0);
	or_cfg_free(&cfg);

	CU_ASSERT_EQUAL(or_cfg_load_string(&cfg, "p.ini",
		DP_INI("channel_peer_uid = no_such_user_or14\n")), -EINVAL);
	CU_ASSERT_STRING_EQUAL(cfg.err, "p.ini:4: [dataplane] "
		"channel_peer_uid: invalid value 'no_such_user_or14' "
		"(expected a user name or a numeric uid)");
	or_cfg_free(&cfg);
	CU_ASSERT_EQUAL(or_cfg_load_string(&cfg, "p.ini",
		DP_INI("channel_peer_gid = -3\n")), -EINVAL);
	CU_ASSERT_STRING_EQUAL(cfg.err, "p.ini:4: [dataplane] "
		"channel_peer_gid: invalid value '-3' "
		"(expected a group name or a numeric gid)");
	or_cfg_free(&cfg);
	CU_ASSERT_EQUAL(or_cfg_load_string(&cfg, "p.ini",
		DP_INI("channel_peer_uid = 1\nchannel_peer_uid = 2\n")),
		-EINVAL);
	CU_ASSERT_PTR_NOT_NULL(strstr(cfg.err, "duplicate key"));
	or_cfg_free(&cfg);
}

/* ------------------------------------------------ the updater's check -- */

/* A child with these credentials connects as the control plane would:
 * 0 served (HELLO answered), else the positive errno or_chan_connect
 * returned (EACCES: refused by the peer check), 100 + n if the child
 * could not take the credentials. */
static int
peer_try(const char *path, uid_t uid, gid_t gid, const gid_t *groups,
	 size_t n_groups)
{
	pid_t pid = fork();
	int status;

	CU_ASSERT_FATAL(pid >= 0);
	if (pid == 0) {
		struct or_chan_client *c;
		int rc;

		if (setgroups(n_groups, groups) != 0)
			_exit(101);
		if (setresgid(gid, gid, gid) != 0)
			_exit(102);
		if (setresuid(uid, uid, uid) != 0)
			_exit(103);
		rc = or_chan_connect(path, OR_CHAN_ROLE_CONTROL, TC_TIMEOUT_MS,
				     &c);
		if (rc == 0)
			or_chan_close(c);
		_exit(rc == 0 ? 0 : -rc < 100 ? -rc : 99);
	}
	CU_ASSERT_FATAL(waitpid(pid, &status, 0) == pid);
	CU_ASSERT_FATAL(WIFEXITED(status));
	return WEXITSTATUS(status);
}

/* An updater whose socket and directory anyone may reach. */
static void
peer_env_start(struct tc_env *e, const struct or_peer_allow *peer)
{
	struct ct_params p = { .entries = 1024, .socket_id = -1 };
	struct or_updater_conf uc = { .workers = 1 };

	memset(e, 0, sizeof(*e));
	snprintf(e->dir, sizeof(e->dir), "/tmp/or_peer_XXXXXX");
	CU_ASSERT_FATAL(mkdtemp(e->dir) != NULL);
	CU_ASSERT_FATAL(chmod(e->dir, 0711) == 0);
	snprintf(e->path, sizeof(e->path), "%s/dp.sock", e->dir);
	CU_ASSERT_FATAL(ct_create(&p, &e->t) == 0);
	uc.sock_path = e->path;
	uc.table = e->t;
	uc.peer = *peer;
	CU_ASSERT_FATAL(or_updater_start(&uc, &e->u) == 0);
	CU_ASSERT_FATAL(chmod(e->path, 0666) == 0);
}

static int
peer_need_root(void)
{
	if (geteuid() == 0)
		return 1;
	fprintf(stderr, "(skipped: changing credentials needs root) ");
	return 0;
}

static void
test_refused_uid(void)
{
	const struct or_peer_allow peer = { .has_uid = 1, .uid = PEER_UID };
	const gid_t none[1] = { 0 };
	struct or_updater_stats s;
	struct tc_env e;

	if (!peer_need_root())
		return;
	peer_env_start(&e, &peer);
	/* Another uid, even with root's group: refused, counted. */
	CU_ASSERT_EQUAL(peer_try(e.path, OTHER_UID, 0, none, 0), EACCES);
	s = tc_ustats(&e);
	CU_ASSERT_EQUAL(s.refused_peer, 1);
	CU_ASSERT_EQUAL(s.connects, 0);
	/* The configured uid, with a group of its own: served. */
	CU_ASSERT_EQUAL(peer_try(e.path, PEER_UID, PEER_UID, none, 0), 0);
	/* While root is connected, a refused peer still gets EACCES (it
	 * does not learn that a control plane is there); an allowed one
	 * gets EBUSY. */
	CU_ASSERT_FATAL(or_chan_connect(e.path, OR_CHAN_ROLE_CONTROL,
					TC_TIMEOUT_MS, &e.c) == 0);
	CU_ASSERT_EQUAL(peer_try(e.path, OTHER_UID, OTHER_UID, none, 0),
			EACCES);
	CU_ASSERT_EQUAL(peer_try(e.path, PEER_UID, PEER_UID, none, 0), EBUSY);
	s = tc_ustats(&e);
	CU_ASSERT_EQUAL(s.refused_peer, 2);
	CU_ASSERT_EQUAL(s.refused, 1);
	CU_ASSERT_EQUAL(s.connects, 2);
	CU_ASSERT_EQUAL(s.errors, 0);
	tc_env_stop(&e);
}

static void
test_refused_gid(void)
{
	const struct or_peer_allow peer = { .has_gid = 1, .gid = PEER_GID };
	const gid_t with[2] = { 10, PEER_GID }, without[1] = { 10 };
	struct or_updater_stats s;
	struct tc_env e;

	if (!peer_need_root())
		return;
	peer_env_start(&e, &peer);
	/* Primary group, then a supplementary one: served. */
	CU_ASSERT_EQUAL(peer_try(e.path, OTHER_UID, PEER_GID, without, 1), 0);
	CU_ASSERT_EQUAL(peer_try(e.path, OTHER_UID, OTHER_UID, with, 2), 0);
	/* Neither: refused. */
	CU_ASSERT_EQUAL(peer_try(e.path, OTHER_UID, OTHER_UID, without, 1),
			EACCES);
	s = tc_ustats(&e);
	CU_ASSERT_EQUAL(s.refused_peer, 1);
	CU_ASSERT_EQUAL(s.connects, 2);
	tc_env_stop(&e);
}

static CU_TestInfo chan_peer_tests[] = {
	{"or_peer_allowed: root, own uid, uid, primary and supplementary group",
	 test_allowed},
	{"or_peer_uid_parse, or_peer_gid_parse", test_parse},
	{"[dataplane] channel_peer_uid, channel_peer_gid", test_config},
	{"updater: another uid refused and counted, the configured one served",
	 test_refused_uid},
	{"updater: channel_peer_gid, primary or supplementary", test_refused_gid},
	CU_TEST_INFO_NULL,
};

OR_TEST_SUITE("chan_peer", tc_suite_init, tc_suite_clean, chan_peer_tests)
