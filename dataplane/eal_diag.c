/* SPDX-License-Identifier: BSD-3-Clause
 *
 * Hugepage diagnosis of a failed rte_eal_init() (see eal_diag.h).
 *
 * It follows EAL's own rules (lib/eal/linux/eal_hugepage_info.c): a page
 * size is usable when pages of it are reserved and a hugetlbfs of that
 * size is mounted (a mount without pagesize= has the default size); with
 * --huge-dir DIR, only a mount at DIR or above it counts; --in-memory needs
 * no mount. EAL fails when no size is usable.
 */
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_errno.h>

#include "eal_diag.h"

#define DIAG_MAX_SIZES 8
#define DIAG_LINE 4096
#define DIAG_HUGE_DIR "/dev/hugepages"

struct diag_size {
	uint64_t kb;   /* page size */
	uint64_t nr;   /* nr_hugepages */
	uint64_t free; /* free_hugepages - resv_hugepages */
	uint64_t resv; /* resv_hugepages */
	int mounted;   /* a hugetlbfs of this size where EAL looks */
};

struct diag_facts {
	uint64_t default_kb; /* Hugepagesize of /proc/meminfo, 0 if none */
	struct diag_size sz[DIAG_MAX_SIZES];
	unsigned n;
	const char *huge_dir; /* --huge-dir, or NULL */
	int no_huge, in_memory;
};

/* "4K", "2M", "1G": a page size as hugetlbfs' pagesize= option spells it. */
static void
size_str(uint64_t kb, char *buf, size_t len)
{
	if (kb >= 1024 * 1024 && kb % (1024 * 1024) == 0)
		snprintf(buf, len, "%" PRIu64 "G", kb / (1024 * 1024));
	else if (kb >= 1024 && kb % 1024 == 0)
		snprintf(buf, len, "%" PRIu64 "M", kb / 1024);
	else
		snprintf(buf, len, "%" PRIu64 "K", kb);
}

/* The value of pagesize= ("2M", "1024M", "1G", "64K"), in kB; 0 if bad. */
static uint64_t
parse_size(const char *s)
{
	char *end;
	uint64_t v;

	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno != 0 || end == s)
		return 0;
	switch (*end) {
	case 'G': case 'g': return v * 1024 * 1024;
	case 'M': case 'm': return v * 1024;
	case 'K': case 'k': return v;
	default: return v / 1024; /* bytes */
	}
}

static void
scan_args(struct diag_facts *f, int argc, char *const argv[])
{
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];

		if (strcmp(a, "--no-huge") == 0)
			f->no_huge = 1;
		else if (strcmp(a, "--in-memory") == 0)
			f->in_memory = 1;
		else if (strncmp(a, "--huge-dir=", 11) == 0)
			f->huge_dir = a + 11;
		else if (strcmp(a, "--huge-dir") == 0 && i + 1 < argc)
			f->huge_dir = argv[++i];
	}
}

static int
read_meminfo(struct diag_facts *f, const char *path)
{
	char line[256];
	FILE *fp = fopen(path, "r");

	if (fp == NULL)
		return -errno;
	while (fgets(line, sizeof(line), fp) != NULL)
		if (sscanf(line, "Hugepagesize: %" SCNu64, &f->default_kb) == 1)
			break;
	fclose(fp);
	return 0;
}

static uint64_t
read_u64(const char *dir, const char *sub, const char *file)
{
	char path[512];
	uint64_t v = 0;
	FILE *fp;

	snprintf(path, sizeof(path), "%s/%s/%s", dir, sub, file);
	fp = fopen(path, "r");
	if (fp == NULL)
		return 0;
	if (fscanf(fp, "%" SCNu64, &v) != 1)
		v = 0;
	fclose(fp);
	return v;
}

/* Each hugepages-<N>kB of the sysfs folder; none if it does not exist
 * (a kernel without hugetlbfs: nothing reserved). */
static void
read_sysfs(struct diag_facts *f, const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;

	if (d == NULL)
		return;
	while ((e = readdir(d)) != NULL && f->n < DIAG_MAX_SIZES) {
		struct diag_size *s = &f->sz[f->n];
		char tail[4];

		if (sscanf(e->d_name, "hugepages-%" SCNu64 "%3s", &s->kb,
			   tail) != 2 || strcmp(tail, "kB") != 0)
			continue;
		s->nr = read_u64(dir, e->d_name, "nr_hugepages");
		/* What EAL counts: free pages not promised to a mapping. */
		s->free = read_u64(dir, e->d_name, "free_hugepages");
		s->resv = read_u64(dir, e->d_name, "resv_hugepages");
		s->free = s->free > s->resv ? s->free - s->resv : 0;
		s->mounted = 0;
		f->n++;
	}
	closedir(d);
}

/* /proc/mounts writes space, tab, newline and backslash as \ooo. */
static void
unescape(char *s)
{
	char *w = s;

	for (const char *r = s; *r != '\0'; r++, w++) {
		if (r[0] == '\\' && r[1] >= '0' && r[1] <= '3' &&
		    r[2] >= '0' && r[2] <= '7' && r[3] >= '0' && r[3] <= '7') {
			*w = (char)((r[1] - '0') * 64 + (r[2] - '0') * 8 +
				    (r[3] - '0'));
			r += 3;
		} else {
			*w = *r;
		}
	}
	*w = '\0';
}

/* True if dir is mnt or lies below it (EAL takes a --huge-dir inside a
 * hugetlbfs mount). */
static int
path_under(const char *dir, const char *mnt)
{
	size_t n = strlen(mnt);

	while (n > 1 && mnt[n - 1] == '/')
		n--;
	if (n == 1 && mnt[0] == '/')
		return dir[0] == '/';
	return strncmp(dir, mnt, n) == 0 && (dir[n] == '\0' || dir[n] == '/');
}

static int
read_mounts(struct diag_facts *f, const char *path)
{
	char line[DIAG_LINE];
	FILE *fp = fopen(path, "r");

	if (fp == NULL)
		return -errno;
	while (fgets(line, sizeof(line), fp) != NULL) {
		char *save = NULL, *mnt, *type, *opts, *ps;
		uint64_t kb;

		if (strtok_r(line, " \n", &save) == NULL ||
		    (mnt = strtok_r(NULL, " \n", &save)) == NULL ||
		    (type = strtok_r(NULL, " \n", &save)) == NULL ||
		    strcmp(type, "hugetlbfs") != 0)
			continue;
		opts = strtok_r(NULL, " \n", &save);
		ps = opts != NULL ? strstr(opts, "pagesize=") : NULL;
		kb = ps != NULL ? parse_size(ps + 9) : f->default_kb;
		unescape(mnt);
		if (f->huge_dir != NULL && !path_under(f->huge_dir, mnt))
			continue;
		for (unsigned i = 0; i < f->n; i++)
			if (f->sz[i].kb == kb)
				f->sz[i].mounted = 1;
	}
	fclose(fp);
	return 0;
}

/* The reserved size named in messages: the default size if reserved,
 * else the first reserved one; NULL if none is. */
static const struct diag_size *
pick_reserved(const struct diag_facts *f)
{
	const struct diag_size *p = NULL;

	for (unsigned i = 0; i < f->n; i++) {
		if (f->sz[i].nr == 0)
			continue;
		if (p == NULL || f->sz[i].kb == f->default_kb)
			p = &f->sz[i];
	}
	return p;
}

static int
explain(const struct diag_facts *f, char *buf, size_t len)
{
	const char *nohuge = "or run without hugepages: --no-huge -m MB in "
			     "[eal] args";
	const struct diag_size *s = pick_reserved(f);
	uint64_t free = 0, total = 0;
	char ps[24];
	int usable = 0;

	if (s == NULL) {
		snprintf(buf, len, "no hugepages reserved (nr_hugepages is 0 "
			 "for every page size): reserve some, e.g. echo 512 > "
			 "/sys/kernel/mm/hugepages/hugepages-%" PRIu64
			 "kB/nr_hugepages (deploy/hugepages/), %s",
			 f->default_kb != 0 ? f->default_kb : 2048, nohuge);
		return 1;
	}
	for (unsigned i = 0; i < f->n; i++) {
		if (f->sz[i].nr == 0 || !(f->sz[i].mounted || f->in_memory))
			continue;
		usable = 1;
		free += f->sz[i].free;
		total += f->sz[i].nr;
	}
	size_str(s->kb, ps, sizeof(ps));
	if (!usable && f->huge_dir != NULL) {
		snprintf(buf, len, "hugetlbfs not mounted at %s (--huge-dir): "
			 "%" PRIu64 " hugepages of %s are reserved, but no "
			 "hugetlbfs of that size is mounted there; mount one "
			 "(mkdir -p %s && mount -t hugetlbfs -o pagesize=%s "
			 "nodev %s) or drop --huge-dir, %s", f->huge_dir,
			 s->nr, ps, f->huge_dir, ps, f->huge_dir, nohuge);
		return 1;
	}
	if (!usable) {
		snprintf(buf, len, "hugetlbfs not mounted: %" PRIu64
			 " hugepages of %s are reserved, but /proc/mounts has "
			 "no hugetlbfs of that size; mount one (mkdir -p %s && "
			 "mount -t hugetlbfs -o pagesize=%s nodev %s), %s",
			 s->nr, ps, DIAG_HUGE_DIR, ps, DIAG_HUGE_DIR, nohuge);
		return 1;
	}
	if (free == 0) {
		snprintf(buf, len, "no free hugepages: all %" PRIu64 " reserved "
			 "and mounted are in use (another DPDK process, or "
			 "files a killed one left in the hugetlbfs mount): stop "
			 "it or delete its files, reserve more, %s", total,
			 nohuge);
		return 1;
	}
	return 0;
}

int
or_eal_diag_huge(int argc, char *const argv[],
		 const struct or_eal_diag_src *src, char *buf, size_t len)
{
	struct diag_facts f;
	int rc;

	if (len > 0)
		buf[0] = '\0';
	memset(&f, 0, sizeof(f));
	scan_args(&f, argc, argv);
	if (f.no_huge)
		return 0;
	rc = read_meminfo(&f, src != NULL && src->meminfo != NULL ?
			      src->meminfo : "/proc/meminfo");
	if (rc != 0)
		return rc;
	read_sysfs(&f, src != NULL && src->sysfs != NULL ? src->sysfs :
		       "/sys/kernel/mm/hugepages");
	rc = read_mounts(&f, src != NULL && src->mounts != NULL ?
			     src->mounts : "/proc/mounts");
	if (rc != 0)
		return rc;
	return explain(&f, buf, len);
}

const char *
or_eal_diag(int argc, char *const argv[], int err, char *buf, size_t len)
{
	if (or_eal_diag_huge(argc, argv, NULL, buf, len) != 1)
		snprintf(buf, len, "%s", rte_strerror(err));
	return buf;
}
