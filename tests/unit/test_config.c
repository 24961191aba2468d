/* Unit tests of the dataplane's INI configuration (dataplane/config*.c,
 * in the dataplane program's library libordpd.a). */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "or_test.h"

#include "dataplane/config.h"

static struct or_cfg cfg;

#define PORT_OK "[port p]\ndevice = net_null0\nworkers = 1\nip = 192.0.2.1\n"

static const char valid_ini[] =
	"; a comment\n"
	"[eal]\n"
	"args = --no-huge -m 512 --no-pci\n"
	"args = --file-prefix=t1\n"
	"main_lcore = 0\n"
	"\n"
	"[dataplane]\n"
	"udp_port = 7041\n"
	"channel = /tmp/or-test.sock   ; inline comment\n"
	"table_entries = 5000\n"
	"start_rx_after_sync = yes\n"
	"rx_desc = 512\n"
	"idle_sleep_us = 10\n"
	"pdump = no\n"
	"\n"
	"[port client]\n"
	"device = net_pcap0,rx_pcap=/tmp/in.pcap,\n"
	"    tx_pcap=/tmp/out.pcap\n"
	"rx_queues = 2\n"
	"workers = 1-2\n"
	"ip = 192.0.2.1\n"
	"mac = 02:00:00:00:00:01\n"
	"\n"
	"[port delivery]\n"
	"device = net_null0\n"
	"ip = 198.51.100.1\n"
	"\n"
	"[nexthop 7]\n"
	"port = delivery\n"
	"mac = 02:00:00:00:01:07\n"
	"ip = 198.51.100.7\n"
	"\n"
	"[nexthop 3]\n"
	"port = client\n"
	"mac = 02:00:00:00:01:03\n"
	"ip = 192.0.2.3\n"
	"udp_port = 9000\n"
	"\n"
	"[control]\n"
	"whatever = 1\n"
	"[control tokens]\n"
	"key_file = /x\n"
	"[metrics]\n"
	"listen = 127.0.0.1:9100\n";

static uint32_t
ip4(const char *s)
{
	struct in_addr a;

	inet_pton(AF_INET, s, &a);
	return a.s_addr;
}

static void
test_valid(void)
{
	int rc = or_cfg_load_string(&cfg, "t.ini", valid_ini);

	CU_ASSERT_EQUAL_FATAL(rc, 0);
	CU_ASSERT_STRING_EQUAL(cfg.err, "");
	CU_ASSERT_STRING_EQUAL(cfg.eal_args,
			       "--no-huge -m 512 --no-pci --file-prefix=t1");
	CU_ASSERT_EQUAL(cfg.main_lcore, 0);
	CU_ASSERT_EQUAL(cfg.udp_port, 7041);
	CU_ASSERT_STRING_EQUAL(cfg.channel, "/tmp/or-test.sock");
	CU_ASSERT_EQUAL(cfg.table_entries, 5000);
	CU_ASSERT_EQUAL(cfg.start_rx_after_sync, OR_CFG_RX_AFTER_RESYNC);
	CU_ASSERT_EQUAL(cfg.rx_desc, 512);
	CU_ASSERT_EQUAL(cfg.tx_desc, OR_CFG_DEFAULT_DESC);
	CU_ASSERT_EQUAL(cfg.idle_sleep_us, 10);
	CU_ASSERT_EQUAL(cfg.pdump, 0);

	CU_ASSERT_EQUAL_FATAL(cfg.n_ports, 2);
	CU_ASSERT_STRING_EQUAL(cfg.ports[0].name, "client");
	CU_ASSERT_STRING_EQUAL(cfg.ports[0].device,
			       "net_pcap0,rx_pcap=/tmp/in.pcap,tx_pcap=/tmp/out.pcap");
	CU_ASSERT_EQUAL(cfg.ports[0].is_pci, 0);
	CU_ASSERT_EQUAL(cfg.ports[0].rx_queues, 2);
	CU_ASSERT_EQUAL(cfg.ports[0].n_workers, 2);
	CU_ASSERT_EQUAL(cfg.ports[0].workers[0], 1);
	CU_ASSERT_EQUAL(cfg.ports[0].workers[1], 2);
	CU_ASSERT_EQUAL(cfg.ports[0].ip, ip4("192.0.2.1"));
	CU_ASSERT_EQUAL(cfg.ports[0].has_mac, 1);
	CU_ASSERT_EQUAL(cfg.ports[0].mac[5], 1);
	CU_ASSERT_STRING_EQUAL(cfg.ports[1].name, "delivery");
	CU_ASSERT_EQUAL(cfg.ports[1].rx_queues, 0);
	CU_ASSERT_EQUAL(cfg.ports[1].has_mac, 0);

	CU_ASSERT_EQUAL(cfg.n_workers, 2);
	CU_ASSERT_EQUAL(cfg.workers[0], 1);
	CU_ASSERT_EQUAL(cfg.workers[1], 2);

	/* sorted by id, port resolved, udp_port defaulted */
	CU_ASSERT_EQUAL_FATAL(cfg.n_nexthops, 2);
	CU_ASSERT_EQUAL(cfg.nexthops[0].id, 3);
	CU_ASSERT_EQUAL(cfg.nexthops[0].port_idx, 0);
	CU_ASSERT_EQUAL(cfg.nexthops[0].udp_port, 9000);
	CU_ASSERT_EQUAL(cfg.nexthops[1].id, 7);
	CU_ASSERT_EQUAL(cfg.nexthops[1].port_idx, 1);
	CU_ASSERT_EQUAL(cfg.nexthops[1].udp_port, 7041);
	CU_ASSERT_EQUAL(cfg.nexthops[1].ip, ip4("198.51.100.7"));
	CU_ASSERT_EQUAL(cfg.nexthops[1].mac[5], 7);
	or_cfg_free(&cfg);
}

static void
test_defaults(void)
{
	int rc = or_cfg_load_string(&cfg, "d.ini",
				    "[port p]\ndevice = net_null0\n"
				    "workers = 1\nip = 192.0.2.1\n");

	CU_ASSERT_EQUAL_FATAL(rc, 0);
	CU_ASSERT_PTR_NULL(cfg.eal_args);
	CU_ASSERT_EQUAL(cfg.udp_port, 7040);
	CU_ASSERT_STRING_EQUAL(cfg.channel, OR_INI_DEFAULT_CHANNEL);
	CU_ASSERT_EQUAL(cfg.table_entries, OR_CFG_DEFAULT_ENTRIES);
	CU_ASSERT_EQUAL(cfg.start_rx_after_sync, OR_CFG_RX_AT_START);
	CU_ASSERT_EQUAL(cfg.pdump, 1);
	CU_ASSERT_EQUAL(cfg.ports[0].mtu, 1500);
	or_cfg_free(&cfg);
	rc = or_cfg_load_string(&cfg, "d.ini", "[dataplane]\n"
				"start_rx_after_sync = ACK\n" PORT_OK);
	CU_ASSERT_EQUAL_FATAL(rc, 0);
	CU_ASSERT_EQUAL(cfg.start_rx_after_sync, OR_CFG_RX_AFTER_ACK);
	CU_ASSERT_EQUAL(cfg.ports[0].rx_queues, 1);
	CU_ASSERT_EQUAL(cfg.n_nexthops, 0);
	or_cfg_free(&cfg);
}

/* Loads text and expects exactly the error message want. */
static void
expect_err(const char *text, const char *want)
{
	int rc = or_cfg_load_string(&cfg, "e.ini", text);

	CU_ASSERT_EQUAL(rc, -EINVAL);
	if (strcmp(cfg.err, want) != 0) {
		fprintf(stderr, "\n  got:  %s\n  want: %s\n", cfg.err, want);
		CU_FAIL("error message");
	}
	or_cfg_free(&cfg);
}

static void
test_err_unknown(void)
{
	expect_err("[eal]\nargs = -m 64\n[bogus]\nx = 1\n" PORT_OK,
		   "e.ini:3: [bogus]: unknown section (expected eal, "
		   "dataplane, port NAME or nexthop ID; control*, exporter* "
		   "and metrics* sections are skipped)");
	/* an unknown section is reported even with no keys */
	expect_err(PORT_OK "[bogus]\n",
		   "e.ini:5: [bogus]: unknown section (expected eal, "
		   "dataplane, port NAME or nexthop ID; control*, exporter* "
		   "and metrics* sections are skipped)");
	/* optroute-exporter's section is skipped like the control plane's */
	CU_ASSERT_EQUAL(or_cfg_load_string(&cfg, "e.ini", PORT_OK
					   "[exporter]\nlisten = 9140\n"), 0);
	or_cfg_free(&cfg);
	expect_err("[dataplane]\nudp_port = 7040\nudp_prot = 1\n" PORT_OK,
		   "e.ini:3: [dataplane] udp_prot: unknown key");
	expect_err("x = 1\n" PORT_OK, "e.ini:1: key 'x' outside a section");
	expect_err(PORT_OK "[nexthop 1]\nport = p\nmac = 02:00:00:00:00:09\n"
		   "ip = 192.0.2.9\ngateway = 1\n",
		   "e.ini:9: [nexthop 1] gateway: unknown key");
}

static void
test_err_values(void)
{
	expect_err("[dataplane]\nudp_port = 70000\n" PORT_OK,
		   "e.ini:2: [dataplane] udp_port: invalid value '70000' "
		   "(expected a UDP port 1..65535)");
	expect_err("[dataplane]\ntable_entries = 12x\n" PORT_OK,
		   "e.ini:2: [dataplane] table_entries: invalid value '12x' "
		   "(expected 1..4294967296)");
	expect_err("[dataplane]\nrx_desc = -5\n" PORT_OK,
		   "e.ini:2: [dataplane] rx_desc: invalid value '-5' "
		   "(expected 64..16384)");
	expect_err("[dataplane]\nmbufs = 10\n" PORT_OK,
		   "e.ini:2: [dataplane] mbufs: invalid value '10' "
		   "(expected 0 (auto) or 1024..16777216)");
	expect_err("[dataplane]\nstart_rx_after_sync = maybe\n" PORT_OK,
		   "e.ini:2: [dataplane] start_rx_after_sync: invalid value "
		   "'maybe' (expected no, yes (a full resync) or ack)");
	expect_err("[dataplane]\npdump = ack\n" PORT_OK,
		   "e.ini:2: [dataplane] pdump: invalid value 'ack' "
		   "(expected yes or no)");
	expect_err("[port p]\ndevice = net_null0\nworkers = 1\n"
		   "ip = 192.0.2.300\n",
		   "e.ini:4: [port p] ip: invalid value '192.0.2.300' "
		   "(expected a unicast IPv4 address)");
	expect_err("[port p]\ndevice = net_null0\nworkers = 1\n"
		   "ip = 224.0.0.1\n",
		   "e.ini:4: [port p] ip: invalid value '224.0.0.1' "
		   "(expected a unicast IPv4 address)");
	expect_err(PORT_OK "mac = 01:00:5e:00:00:01\n",
		   "e.ini:5: [port p] mac: invalid value '01:00:5e:00:00:01' "
		   "(expected a unicast MAC like 02:00:00:00:00:01)");
	expect_err(PORT_OK "mac = 02:00:00:00:00\n",
		   "e.ini:5: [port p] mac: invalid value '02:00:00:00:00' "
		   "(expected a unicast MAC like 02:00:00:00:00:01)");
	expect_err("[port p]\ndevice = net_null0\nworkers = 1,x\n",
		   "e.ini:3: [port p] workers: invalid value '1,x' "
		   "(expected an lcore list like 1,2 or 1-3)");
	expect_err("[port p]\ndevice = net_null0\nworkers = 1,2,1\n",
		   "e.ini:3: [port p] workers: lcore listed twice in '1,2,1'");
	expect_err("[port p]\ndevice = net_null0\nworkers = 1-17\n",
		   "e.ini:3: [port p] workers: more than 16 lcores in '1-17'");
	expect_err("[port P1]\ndevice = net_null0\n",
		   "e.ini:1: [port P1]: invalid port name 'P1' (expected "
		   "1..31 characters of a-z, 0-9, _)");
	expect_err(PORT_OK "[nexthop 70000]\n",
		   "e.ini:5: [nexthop 70000]: invalid next-hop id '70000' "
		   "(expected a delivery node id 0..65535)");
	expect_err("[dataplane]\nchannel = /tmp/"
		   "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
		   "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\n" PORT_OK,
		   "e.ini:2: [dataplane] channel: invalid value '/tmp/"
		   "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
		   "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa' "
		   "(expected a socket path of 1..107 characters)");
}

static void
test_err_duplicates(void)
{
	expect_err("[dataplane]\nudp_port = 1\nudp_port = 2\n" PORT_OK,
		   "e.ini:3: [dataplane] udp_port: duplicate key (first on "
		   "line 2)");
	expect_err("[dataplane]\n[eal]\n[dataplane]\n" PORT_OK,
		   "e.ini:3: [dataplane]: duplicate section (first on line 1)");
	expect_err(PORT_OK PORT_OK,
		   "e.ini:5: [port p]: duplicate section (first on line 1)");
	/* the same port under another spelling of its header */
	expect_err(PORT_OK "[port  p]\n",
		   "e.ini:5: [port  p]: duplicate section (first on line 1)");
	expect_err(PORT_OK "[nexthop 7]\n[nexthop 07]\n",
		   "e.ini:6: [nexthop 07]: duplicate section (first on line 5)");
	/* sections the dataplane skips are still one each */
	expect_err(PORT_OK "[control]\n[control]\n",
		   "e.ini:6: [control]: duplicate section (first on line 5)");
	expect_err(PORT_OK "[port q]\ndevice = net_null0\nip = 192.0.2.2\n",
		   "e.ini:5: [port q] device: device 'net_null0' already used "
		   "by [port p]");
	/* indented key lines are continuations in INI */
	expect_err("[port p]\ndevice = net_null0\nworkers = 1\n  ip = 192.0.2.1\n",
		   "e.ini:4: [port p] workers: indented line continues this "
		   "key's value, which takes one line (do not indent keys)");
}

static void
test_err_cross(void)
{
	expect_err("[port p]\ndevice = net_null0\nworkers = 1\n",
		   "e.ini:1: [port p]: missing key 'ip'");
	expect_err("[port p]\nworkers = 1\nip = 192.0.2.1\n",
		   "e.ini:1: [port p]: missing key 'device'");
	expect_err("[port p]\ndevice = net_null0\nrx_queues = 2\nworkers = 1\n"
		   "ip = 192.0.2.1\n",
		   "e.ini:3: [port p] rx_queues: 2 RX queues but 1 worker "
		   "lcores (workers needs one lcore per RX queue)");
	expect_err("[eal]\nmain_lcore = 1\n" PORT_OK,
		   "e.ini:5: [port p] workers: lcore 1 is the main lcore "
		   "([eal] main_lcore)");
	expect_err(PORT_OK "[nexthop 4]\nport = nope\nmac = 02:00:00:00:00:09\n"
		   "ip = 192.0.2.9\n",
		   "e.ini:6: [nexthop 4] port: no [port nope] section");
	expect_err(PORT_OK "[nexthop 4]\nport = p\nip = 192.0.2.9\n",
		   "e.ini:5: [nexthop 4]: missing key 'mac'");
	expect_err("[dataplane]\n", "e.ini: no [port NAME] section");
	expect_err("[port p]\ndevice = net_null0\nip = 192.0.2.1\n",
		   "e.ini: no port has workers: nothing would receive (set "
		   "workers in a [port NAME] section)");
	expect_err("[eal]\nargs = --no-huge\nargs = -l 0-1\n" PORT_OK,
		   "e.ini:2: [eal] args: lcores are set by [eal] main_lcore "
		   "and [port] workers: remove -l/-c/--lcores/--main-lcore");
	expect_err("[eal]\nargs = --no-pci\n[port p]\ndevice = 0000:01:00.0\n"
		   "workers = 1\nip = 192.0.2.1\n",
		   "e.ini:3: [port p] device: PCI device '0000:01:00.0' but "
		   "[eal] args has --no-pci");
}

static void
test_err_syntax(void)
{
	char text[600];

	expect_err(PORT_OK "this line has no equals sign\n",
		   "e.ini:5: syntax error (expected [section], key = value "
		   "or a comment)");
	/* inih's first error comes before ours: it wins */
	expect_err("[port p\n" PORT_OK "[bogus]\n",
		   "e.ini:1: syntax error (expected [section], key = value "
		   "or a comment)");
	snprintf(text, sizeof(text), PORT_OK "[eal]\nargs = %0250d\n", 0);
	expect_err(text, "e.ini:6: [eal]: line longer than 198 characters "
		   "(continue a long value on indented lines)");
}

static void
test_load_file(void)
{
	char path[] = "/tmp/or-test-cfg-XXXXXX";
	int fd = mkstemp(path);
	FILE *f;

	CU_ASSERT_FATAL(fd >= 0);
	f = fdopen(fd, "w");
	CU_ASSERT_FATAL(f != NULL);
	fputs(valid_ini, f);
	fputs("[dataplane]\n", f); /* a duplicate after the valid text */
	fclose(f);
	CU_ASSERT_EQUAL(or_cfg_load(&cfg, path), -EINVAL);
	char want[256];
	unsigned line = 1;

	for (const char *c = valid_ini; *c != '\0'; c++)
		line += *c == '\n';
	snprintf(want, sizeof(want), "%s:%u: [dataplane]: duplicate section "
		 "(first on line 7)", path, line);
	CU_ASSERT_STRING_EQUAL(cfg.err, want);
	or_cfg_free(&cfg);
	unlink(path);

	CU_ASSERT_EQUAL(or_cfg_load(&cfg, path), -ENOENT);
	snprintf(want, sizeof(want), "%s: cannot open: No such file or "
		 "directory", path);
	CU_ASSERT_STRING_EQUAL(cfg.err, want);
	or_cfg_free(&cfg);
}

static void
test_eal_argv(void)
{
	char **argv;
	int argc;
	char name[64];

	CU_ASSERT_EQUAL_FATAL(or_cfg_load_string(&cfg, "t.ini", valid_ini), 0);
	CU_ASSERT_EQUAL_FATAL(or_cfg_eal_argv(&cfg, "prog", &argc, &argv), 0);
	const char *want[] = {
		"prog", "--no-huge", "-m", "512", "--no-pci",
		"--file-prefix=t1", "-l", "0,1,2", "--main-lcore=0",
		"--vdev=net_pcap0,rx_pcap=/tmp/in.pcap,tx_pcap=/tmp/out.pcap",
		"--vdev=net_null0",
	};
	CU_ASSERT_EQUAL_FATAL(argc, (int)(sizeof(want) / sizeof(want[0])));
	for (int i = 0; i < argc; i++)
		CU_ASSERT_STRING_EQUAL(argv[i], want[i]);
	CU_ASSERT_PTR_NULL(argv[argc]);
	free(argv);
	or_cfg_dev_name(&cfg.ports[0], name, sizeof(name));
	CU_ASSERT_STRING_EQUAL(name, "net_pcap0");
	or_cfg_free(&cfg);

	CU_ASSERT_EQUAL_FATAL(or_cfg_load_string(&cfg, "p.ini",
		"[eal]\nmain_lcore = 3\n[port a]\ndevice = 01:00.1\n"
		"workers = 2\nip = 192.0.2.1\n[port b]\n"
		"device = 0000:AF:00.0,foo=1\nworkers = 1,2\nip = 192.0.2.2\n"), 0);
	CU_ASSERT_EQUAL_FATAL(or_cfg_eal_argv(&cfg, "prog", &argc, &argv), 0);
	const char *want2[] = {
		"prog", "-l", "3,1,2", "--main-lcore=3", "-a", "01:00.1",
		"-a", "0000:AF:00.0,foo=1",
	};
	CU_ASSERT_EQUAL_FATAL(argc, 8);
	for (int i = 0; i < argc; i++)
		CU_ASSERT_STRING_EQUAL(argv[i], want2[i]);
	free(argv);
	CU_ASSERT_EQUAL(cfg.ports[0].is_pci, 1);
	or_cfg_dev_name(&cfg.ports[0], name, sizeof(name));
	CU_ASSERT_STRING_EQUAL(name, "0000:01:00.1");
	or_cfg_dev_name(&cfg.ports[1], name, sizeof(name));
	CU_ASSERT_STRING_EQUAL(name, "0000:af:00.0");
	or_cfg_free(&cfg);

	/* lcore_cpus: two workers sharing CPU 1 (EAL --lcores). */
	CU_ASSERT_EQUAL_FATAL(or_cfg_load_string(&cfg, "c.ini",
		"[eal]\nlcore_cpus = 2@1, 1@1\n[port a]\ndevice = net_null0\n"
		"workers = 1-2\nip = 192.0.2.1\n"), 0);
	CU_ASSERT_EQUAL_FATAL(or_cfg_eal_argv(&cfg, "prog", &argc, &argv), 0);
	const char *want3[] = {
		"prog", "--lcores", "0,1@1,2@1", "--main-lcore=0",
		"--vdev=net_null0",
	};
	CU_ASSERT_EQUAL_FATAL(argc, 5);
	for (int i = 0; i < argc; i++)
		CU_ASSERT_STRING_EQUAL(argv[i], want3[i]);
	free(argv);
	or_cfg_free(&cfg);
}

static void
test_err_lcore_cpus(void)
{
	expect_err("[eal]\nlcore_cpus = 5@1\n" PORT_OK,
		   "e.ini:2: [eal] lcore_cpus: lcore 5 is neither main_lcore "
		   "nor a worker");
	expect_err("[eal]\nlcore_cpus = 1@1 1@0\n" PORT_OK,
		   "e.ini:2: [eal] lcore_cpus: invalid value '1@1 1@0' "
		   "(expected distinct lcore@cpu pairs, e.g. '2@1 3@1')");
	expect_err("[eal]\nlcore_cpus = 1\n" PORT_OK,
		   "e.ini:2: [eal] lcore_cpus: invalid value '1' "
		   "(expected distinct lcore@cpu pairs, e.g. '2@1 3@1')");
	expect_err("[eal]\nlcore_cpus = 1@x\n" PORT_OK,
		   "e.ini:2: [eal] lcore_cpus: invalid value '1@x' "
		   "(expected distinct lcore@cpu pairs, e.g. '2@1 3@1')");
	expect_err("[eal]\nlcore_cpus = 1@1;\n" PORT_OK,
		   "e.ini:2: [eal] lcore_cpus: invalid value '1@1;' "
		   "(expected distinct lcore@cpu pairs, e.g. '2@1 3@1')");
}

/* [port NAME] mtu: default 1500, 96..9216, per port (defect 5 of
 * issue 13: docs/protocol.md section 1). */
static void
test_port_mtu(void)
{
	int rc = or_cfg_load_string(&cfg, "m.ini",
				    PORT_OK "mtu = 9000\n"
				    "[port q]\ndevice = net_null1\n"
				    "ip = 192.0.2.2\n");

	CU_ASSERT_EQUAL_FATAL(rc, 0);
	CU_ASSERT_EQUAL(cfg.ports[0].mtu, 9000);
	CU_ASSERT_EQUAL(cfg.ports[1].mtu, OR_CFG_DEFAULT_MTU);
	CU_ASSERT_EQUAL(OR_CFG_DEFAULT_MTU, 1500);
	or_cfg_free(&cfg);
	rc = or_cfg_load_string(&cfg, "m.ini", PORT_OK "mtu = 96\n");
	CU_ASSERT_EQUAL(rc, 0);
	CU_ASSERT_EQUAL(cfg.ports[0].mtu, 96);
	or_cfg_free(&cfg);
	expect_err(PORT_OK "mtu = 95\n",
		   "e.ini:5: [port p] mtu: invalid value '95' "
		   "(expected an IPv4 MTU 96..9216)");
	expect_err(PORT_OK "mtu = 9217\n",
		   "e.ini:5: [port p] mtu: invalid value '9217' "
		   "(expected an IPv4 MTU 96..9216)");
	expect_err(PORT_OK "mtu = 1500\nmtu = 1500\n",
		   "e.ini:6: [port p] mtu: duplicate key (first on line 5)");
}

/* An empty args line adds nothing to the EAL arguments, not even a
 * separator (finding C3, docs/fuzzing.md); args alone empty: none. */
static void
test_empty_args_line(void)
{
	CU_ASSERT_EQUAL_FATAL(or_cfg_load_string(&cfg, "t.ini",
						 "[eal]\nargs = --no-pci\n"
						 "args =\nargs = ; comment\n"
						 "args = -m 64\nargs =\n"
						 "[port p]\ndevice = net_null0\n"
						 "ip = 192.0.2.1\nworkers = 1\n"),
			      0);
	CU_ASSERT_STRING_EQUAL(cfg.eal_args, "--no-pci -m 64");
	or_cfg_free(&cfg);
	CU_ASSERT_EQUAL_FATAL(or_cfg_load_string(&cfg, "t.ini",
						 "[eal]\nargs =\n"
						 "[port p]\ndevice = net_null0\n"
						 "ip = 192.0.2.1\nworkers = 1\n"),
			      0);
	CU_ASSERT_PTR_NULL(cfg.eal_args);
	or_cfg_free(&cfg);
}

static CU_TestInfo config_tests[] = {
	{ "valid file", test_valid },
	{ "empty args line", test_empty_args_line },
	{ "defaults", test_defaults },
	{ "unknown section/key", test_err_unknown },
	{ "bad values", test_err_values },
	{ "duplicates", test_err_duplicates },
	{ "cross checks", test_err_cross },
	{ "syntax and long lines", test_err_syntax },
	{ "file load", test_load_file },
	{ "EAL argv", test_eal_argv },
	{ "lcore_cpus errors", test_err_lcore_cpus },
	{ "port mtu", test_port_mtu },
	CU_TEST_INFO_NULL,
};

OR_TEST_SUITE("dp_config", NULL, NULL, config_tests)
