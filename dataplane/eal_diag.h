/* SPDX-License-Identifier: BSD-3-Clause
 *
 * Why rte_eal_init() failed, in words an operator can act on, when the
 * reason is hugepages. EAL logs a NOTICE that scrolls by ("... reserved,
 * but no mounted hugetlbfs found for that size") and fails with EACCES,
 * which rte_strerror() spells "Permission denied", whether no hugepages
 * are reserved or hugetlbfs is not mounted. or_eal_diag() reads what EAL
 * read (the EAL arguments, /proc/meminfo, /sys/kernel/mm/hugepages,
 * /proc/mounts) and names the cause and its fix.
 *
 * Called by the main thread after rte_eal_init() failed; reads files,
 * keeps no state, shares nothing.
 */
#ifndef OR_DP_EAL_DIAG_H
#define OR_DP_EAL_DIAG_H

#include <stddef.h>

/* Room for any message of or_eal_diag(), NUL included. */
#define OR_EAL_DIAG_LEN 512

/* Where the facts are read from; a NULL member (or src NULL): the
 * system's file. For the unit tests. */
struct or_eal_diag_src {
	const char *meminfo; /* /proc/meminfo: the default page size */
	const char *sysfs;   /* /sys/kernel/mm/hugepages: per size,
			      * nr_hugepages and free_hugepages */
	const char *mounts;  /* /proc/mounts: hugetlbfs mounts */
};

/*
 * If the EAL arguments argv[0..argc) ask for hugepages (no --no-huge) and
 * they cannot be had, writes the cause and the fix into buf (one line) and
 * returns 1. The causes, in the order EAL meets them:
 *   "no hugepages reserved"              nr_hugepages is 0 for every size
 *   "hugetlbfs not mounted at DIR"       pages reserved, no hugetlbfs of
 *                                        their size at --huge-dir DIR (or
 *                                        "... not mounted" anywhere)
 *   "no free hugepages"                  reserved and mounted, all in use
 * Returns 0 with buf "" when hugepages are not the reason, -errno when
 * /proc/meminfo or /proc/mounts cannot be read.
 */
int or_eal_diag_huge(int argc, char *const argv[],
		     const struct or_eal_diag_src *src, char *buf, size_t len);

/* The reason rte_eal_init() failed with rte_errno err: that of
 * or_eal_diag_huge() on the system's files, else rte_strerror(err).
 * Returns buf. */
const char *or_eal_diag(int argc, char *const argv[], int err, char *buf,
			size_t len);

#endif
