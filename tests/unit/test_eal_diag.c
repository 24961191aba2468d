/* Unit tests of the hugepage diagnosis of a failed rte_eal_init()
 * (dataplane/eal_diag.c), on made-up /proc/meminfo, sysfs and /proc/mounts
 * files: each cause is named with its fix, and nothing is blamed on
 * hugepages when they are usable or not asked for. eal_diag.c is in the
 * dataplane program's library (libordpd.a). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "or_test.h"

#include "dataplane/eal_diag.h"

static char dir[] = "/tmp/or-eal-diag.XXXXXX";
static char meminfo[64], sysfs[64], mounts[64];
static struct or_eal_diag_src src;
static char msg[OR_EAL_DIAG_LEN];

static const char meminfo_2m[] =
	"MemTotal:        8000000 kB\n"
	"HugePages_Total:    1024\n"
	"Hugepagesize:       2048 kB\n";

static const char mounts_none[] =
	"proc /proc proc rw,nosuid,nodev,noexec,relatime 0 0\n"
	"tmpfs /tmp tmpfs rw,nosuid,nodev 0 0\n";

static const char mounts_2m[] =
	"proc /proc proc rw,nosuid,nodev,noexec,relatime 0 0\n"
	"hugetlbfs /dev/hugepages hugetlbfs rw,relatime,pagesize=2M 0 0\n";

static void
put(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	CU_ASSERT_FATAL(f != NULL);
	fputs(text, f);
	fclose(f);
}

/* One page size in the fake sysfs: nr_hugepages, free and resv. */
static void
put_size(unsigned kb, unsigned nr, unsigned free, unsigned resv)
{
	char p[160], v[32];

	snprintf(p, sizeof(p), "%s/hugepages-%ukB", sysfs, kb);
	mkdir(p, 0700);
	snprintf(p, sizeof(p), "%s/hugepages-%ukB/nr_hugepages", sysfs, kb);
	snprintf(v, sizeof(v), "%u\n", nr);
	put(p, v);
	snprintf(p, sizeof(p), "%s/hugepages-%ukB/free_hugepages", sysfs, kb);
	snprintf(v, sizeof(v), "%u\n", free);
	put(p, v);
	snprintf(p, sizeof(p), "%s/hugepages-%ukB/resv_hugepages", sysfs, kb);
	snprintf(v, sizeof(v), "%u\n", resv);
	put(p, v);
}

static int
suite_init(void)
{
	if (mkdtemp(dir) == NULL)
		return -1;
	snprintf(meminfo, sizeof(meminfo), "%s/meminfo", dir);
	snprintf(sysfs, sizeof(sysfs), "%s/hugepages", dir);
	snprintf(mounts, sizeof(mounts), "%s/mounts", dir);
	src = (struct or_eal_diag_src){ meminfo, sysfs, mounts };
	return 0;
}

static int
suite_clean(void)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

/* A fresh machine: default size 2 MB, sizes 2 MB and 1 GB with nothing
 * reserved, nothing mounted. */
static void
reset(void)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", sysfs);
	CU_ASSERT_FATAL(system(cmd) == 0);
	CU_ASSERT_FATAL(mkdir(sysfs, 0700) == 0);
	put(meminfo, meminfo_2m);
	put(mounts, mounts_none);
	put_size(2048, 0, 0, 0);
	put_size(1048576, 0, 0, 0);
}

#define ARGV(...) ((char *const[]){ "optroute-dataplane", __VA_ARGS__ })
#define ARGC(...) ((int)(sizeof(ARGV(__VA_ARGS__)) / sizeof(char *)))
#define DIAG(...) or_eal_diag_huge(ARGC(__VA_ARGS__), ARGV(__VA_ARGS__), \
				   &src, msg, sizeof(msg))

#define HAS(s) CU_ASSERT_PTR_NOT_NULL(strstr(msg, s))

static void
test_no_huge_asked(void)
{
	reset();
	/* Nothing reserved, but EAL was told not to use hugepages. */
	CU_ASSERT_EQUAL(DIAG("-l", "0", "--no-huge", "-m", "512"), 0);
	CU_ASSERT_STRING_EQUAL(msg, "");
}

static void
test_none_reserved(void)
{
	reset();
	put(mounts, mounts_2m);
	CU_ASSERT_EQUAL(DIAG("-l", "0", "--file-prefix=x"), 1);
	CU_ASSERT_EQUAL(strncmp(msg, "no hugepages reserved", 21), 0);
	HAS("/sys/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages");
	HAS("--no-huge");
	CU_ASSERT_PTR_NULL(strchr(msg, '\n'));
	/* No sysfs folder at all (a kernel without hugetlbfs): the same. */
	{
		struct or_eal_diag_src none = { meminfo, "/nonexistent", mounts };

		CU_ASSERT_EQUAL(or_eal_diag_huge(ARGC("-l"), ARGV("-l"), &none,
						 msg, sizeof(msg)), 1);
		CU_ASSERT_EQUAL(strncmp(msg, "no hugepages reserved", 21), 0);
	}
}

static void
test_not_mounted(void)
{
	reset();
	put_size(2048, 1024, 1024, 0);
	CU_ASSERT_EQUAL(DIAG("-l", "0"), 1);
	CU_ASSERT_EQUAL(strncmp(msg, "hugetlbfs not mounted:", 22), 0);
	HAS("1024 hugepages of 2M are reserved");
	HAS("mount -t hugetlbfs -o pagesize=2M nodev /dev/hugepages");
	HAS("--no-huge");
	/* Mounted, but for another page size only. */
	put(mounts, "none /mnt/h1g hugetlbfs rw,pagesize=1024M 0 0\n");
	CU_ASSERT_EQUAL(DIAG("-l", "0"), 1);
	CU_ASSERT_EQUAL(strncmp(msg, "hugetlbfs not mounted:", 22), 0);
	/* --in-memory maps hugepages without a mount. */
	CU_ASSERT_EQUAL(DIAG("-l", "0", "--in-memory"), 0);
}

static void
test_not_mounted_at_huge_dir(void)
{
	reset();
	put_size(2048, 512, 512, 0);
	put(mounts, mounts_2m);
	CU_ASSERT_EQUAL(DIAG("--huge-dir", "/tmp/not-huge"), 1);
	CU_ASSERT_EQUAL(strncmp(msg, "hugetlbfs not mounted at /tmp/not-huge "
				"(--huge-dir)", 39), 0);
	HAS("nodev /tmp/not-huge");
	CU_ASSERT_EQUAL(DIAG("--huge-dir=/dev/hugepagesX"), 1);
	HAS("not mounted at /dev/hugepagesX");
	/* At the mount, or a folder inside it: fine. */
	CU_ASSERT_EQUAL(DIAG("--huge-dir", "/dev/hugepages"), 0);
	CU_ASSERT_EQUAL(DIAG("--huge-dir=/dev/hugepages/optroute"), 0);
	CU_ASSERT_STRING_EQUAL(msg, "");
}

static void
test_mount_forms(void)
{
	reset();
	put_size(2048, 8, 8, 0);
	put_size(1048576, 2, 2, 0);
	/* No pagesize= option: the default size (2 MB); \040 is a space. */
	put(mounts, "nodev /mnt/my\\040huge hugetlbfs rw,relatime 0 0\n");
	CU_ASSERT_EQUAL(DIAG("--huge-dir", "/mnt/my huge"), 0);
	CU_ASSERT_EQUAL(DIAG("--huge-dir", "/mnt/my"), 1);
	/* 1 GB pages reserved and mounted, 2 MB ones not mounted: usable. */
	put(mounts, "nodev /mnt/h1g hugetlbfs rw,pagesize=1G 0 0\n");
	CU_ASSERT_EQUAL(DIAG("-l", "0"), 0);
	put(mounts, "nodev /mnt/h1g hugetlbfs rw,pagesize=1024M 0 0\n");
	CU_ASSERT_EQUAL(DIAG("-l", "0"), 0);
}

static void
test_none_free(void)
{
	reset();
	put(mounts, mounts_2m);
	put_size(2048, 256, 0, 0);
	CU_ASSERT_EQUAL(DIAG("-l", "0"), 1);
	CU_ASSERT_EQUAL(strncmp(msg, "no free hugepages", 17), 0);
	HAS("all 256 reserved and mounted are in use");
	/* Free but all reserved by mappings: none for EAL either. */
	put_size(2048, 256, 10, 10);
	CU_ASSERT_EQUAL(DIAG("-l", "0"), 1);
	CU_ASSERT_EQUAL(strncmp(msg, "no free hugepages", 17), 0);
	/* Free pages of a size that is not mounted do not count. */
	put_size(1048576, 4, 4, 0);
	CU_ASSERT_EQUAL(DIAG("-l", "0"), 1);
}

static void
test_usable(void)
{
	reset();
	put(mounts, mounts_2m);
	put_size(2048, 1024, 900, 0);
	CU_ASSERT_EQUAL(DIAG("-l", "0", "--file-prefix=x"), 0);
	CU_ASSERT_STRING_EQUAL(msg, "");
}

static void
test_unreadable(void)
{
	struct or_eal_diag_src bad = { meminfo, sysfs, "/nonexistent/mounts" };

	reset();
	CU_ASSERT_EQUAL(or_eal_diag_huge(ARGC("-l"), ARGV("-l"), &bad, msg,
					 sizeof(msg)), -ENOENT);
	/* The wrapper falls back to EAL's own error when hugepages are not
	 * the reason. */
	CU_ASSERT_STRING_EQUAL(or_eal_diag(ARGC("--no-huge"), ARGV("--no-huge"),
					   EINVAL, msg, sizeof(msg)),
			       strerror(EINVAL));
}

static void
test_short_buffer(void)
{
	char small[24];

	reset();
	CU_ASSERT_EQUAL(or_eal_diag_huge(ARGC("-l"), ARGV("-l"), &src, small,
					 sizeof(small)), 1);
	CU_ASSERT_EQUAL(strlen(small), sizeof(small) - 1);
}

static CU_TestInfo eal_diag_tests[] = {
	{ "--no-huge: never hugepages", test_no_huge_asked },
	{ "no hugepages reserved", test_none_reserved },
	{ "reserved, hugetlbfs not mounted", test_not_mounted },
	{ "not mounted at --huge-dir", test_not_mounted_at_huge_dir },
	{ "mount lines: default size, escapes, 1G", test_mount_forms },
	{ "reserved and mounted, none free", test_none_free },
	{ "usable: no diagnosis", test_usable },
	{ "unreadable files, fallback", test_unreadable },
	{ "message cut to the buffer", test_short_buffer },
	CU_TEST_INFO_NULL,
};

OR_TEST_SUITE("eal_diag", suite_init, suite_clean, eal_diag_tests)
