/* SPDX-License-Identifier: BSD-3-Clause
 *
 * optroute's release, once for every program that prints it
 * (optroute-control --version, optroute-exporter's build_info).
 */
#ifndef OPTROUTE_VERSION_H
#define OPTROUTE_VERSION_H

#define OR_VERSION "1.0.0"

#endif
