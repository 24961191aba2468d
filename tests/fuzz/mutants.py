#!/usr/bin/env python3
"""Proof that the fuzz targets' checks can fail (docs/fuzzing.md).

Copies the tracked files of the repository into a temporary directory,
builds the replay programs there, then for each mutant below: breaks the
code the way it says, rebuilds that target's replay program, replays the
target's seed corpus and reports whether a check caught it. The
repository itself is never changed. Takes a few minutes on 2 cores.
Usage: tests/fuzz/mutants.py [INDEX...]
"""
import os
import subprocess
import sys
import tempfile

# (target, file, text, replacement, what the mutant breaks)
M = [
 ("pkt", "dataplane/pkt/pkt_decide.h", "\tip->total_length = ip_len;\n", "", "bounce total length not set"),
 ("pkt", "dataplane/pkt/pkt_decide.h", "\tmemcpy(h->auth_tag, &tag, sizeof(tag));\n", "\t(void)tag;\n", "v2 bounce keeps the MSG's tag"),
 ("pkt", "dataplane/pkt/pkt_decide.h", "\tif (or_pkt_udp_csum_bad(frame, info)) {", "\tif (recipient_rec != 0)\n\t\tframe[info->l3_off + 28 + 7] ^= 1;\n\tif (or_pkt_udp_csum_bad(frame, info)) {", "bounce depends on the recipient's record"),
 ("pkt", "dataplane/pkt/pkt_classify.h", "if (tot > pa->mtu)", "if (tot >= pa->mtu)", "mtu off by one"),
 ("pkt", "dataplane/pkt/pkt_decide.h", "\t\tacc = or_csum_adj16(acc, udp->dst_port, nh->dst_udp);\n", "", "delivery UDP checksum not adjusted for the port"),
 ("pkt", "dataplane/pkt/pkt.c", "\tarp->arp_opcode = RTE_BE16(RTE_ARP_OP_REPLY);\n", "", "ARP reply keeps the request opcode"),
 ("chan_server", "dataplane/chan/chan_apply.c", "\tif (chan_take_seq(u, b->seq) < 0)\n\t\treturn;\n\tif (b->count > OR_CHAN_MAX_OPS) {", "\tif (b->count > OR_CHAN_MAX_OPS) {", "rejected batch does not consume its seq"),
 ("chan_server", "dataplane/chan/chan_server.c", "\t\tif (rc == 0)\n\t\t\tCHAN_SET(u, acked_seq, u->conn_seq);", "\t\t(void)rc;", "acked_seq not recorded at a disconnect (defect 2)"),
 ("chan_server", "dataplane/chan/chan_stats.c", "\tif ((req->h.flags & OR_CHAN_STATS_F_CLEAR) && u->conf.stats_clear != NULL)\n\t\tu->conf.stats_clear(u->conf.stats_arg);\n", "", "STATS_REQUEST clear flag ignored"),
 ("chan_client", "control/lib/chan_client.c", "\treturn code >= 1 && code <= CHAN_CLIENT_ERRNO_MAX ? (int)code : EPROTO;", "\treturn (int)code;", "peer ERROR code taken as is (defect 1)"),
 ("chan_client", "control/lib/chan_client.c", "\tsize_t per = c->peer.max_ops < OR_CHAN_MAX_OPS ? c->peer.max_ops :\n\t\t\t\t\t\t\t  OR_CHAN_MAX_OPS;", "\tsize_t per = OR_CHAN_MAX_OPS;", "batches not split at the peer's max_ops"),
 ("chan_client", "control/lib/chan_client.c", "\t\t\tif (a->seq > c->acked)\n\t\t\t\tc->acked = a->seq;", "\t\t\tc->acked = a->seq;", "acked goes backwards on an old ACK"),
 ("mgmt", "control/daemon/loop/cp_req.c", "\t\tCP_FAIL(BAD_VERSION, \"protocol version not supported (this \"\n\t\t\t\t     \"daemon speaks %d)\", OR_MGMT_VERSION);", "\t\tCP_FAIL(BAD_VERSION, \"protocol version %lld not supported\", (long long)json_integer_value(v));", "error quotes the request's v (defect 4)"),
 ("mgmt", "control/daemon/loop/cp_client.c", "\t\tsodium_memzero(cl->in + rest, cl->in_len - rest);\n", "", "handled lines not wiped from the input buffer"),
 ("mgmt", "control/daemon/loop/cp_req.c", "\t\t\tif (json_is_string(v))\n\t\t\t\tcp_json_wipe_string(v);", "\t\t\tif (0)\n\t\t\t\tcp_json_wipe_string(v);", "request strings not wiped at free"),
 ("config", "control/daemon/cp_cfg.c", "\t\treturn or_ini_get_channel(ini, name, value, x->dp_channel);", "\t\treturn snprintf(x->dp_channel, sizeof(x->dp_channel), \"%s\", value) < 0;", "[dataplane] channel truncated by the control plane (defect 3)"),
 ("config", "dataplane/config.h", "#define OR_CFG_MTU_MAX 9216", "#define OR_CFG_MTU_MAX 9217", "mtu range off by one"),
 ("config", "dataplane/config.c", "\tcase 7: cfg->budget_burst = (unsigned)x; break;", "\tcase 7: cfg->budget_burst = (unsigned)x + 1; break;", "a value that does not mean what it says (round trip)"),
 ("token", "control/lib/token.c", "out:\n\tif (number != NULL && len > 0)\n\t\tsodium_memzero(number, len);", "out:\n\tif (rc == 0 && number != NULL && len > 0)\n\t\tsodium_memzero(number, len);", "number not wiped on errors"),
 ("token", "control/lib/token.h", "#define OR_E164_MAX_DIGITS 15", "#define OR_E164_MAX_DIGITS 16", "16 digits accepted"),
 ("token", "control/lib/keys.c", "\t\tsodium_base64_VARIANT_URLSAFE,\n\t\tsodium_base64_VARIANT_URLSAFE_NO_PADDING,\n", "", "URL-safe base64 refused"),
]


def main():
    root = subprocess.run(["git", "rev-parse", "--show-toplevel"],
                          capture_output=True, text=True,
                          check=True).stdout.strip()
    tmp = tempfile.mkdtemp(prefix="or_mutants.")
    files = subprocess.run(["git", "ls-files", "-z"], cwd=root,
                           capture_output=True, check=True).stdout
    subprocess.run(["tar", "--null", "-T", "-", "-cf", tmp + "/t.tar"],
                   cwd=root, input=files, check=True)
    subprocess.run(["tar", "-xf", "t.tar"], cwd=tmp, check=True)
    targets = sorted({m[0] for m in M})
    bins = ["build/fuzz/replay/" + t for t in targets]
    subprocess.run(["make", "NODEPS=1", "-j2"] + bins, cwd=tmp,
                   capture_output=True, check=True)
    only = sys.argv[1:]
    missed = 0
    for i, (t, f, old, new, what) in enumerate(M):
        if only and str(i) not in only:
            continue
        path = os.path.join(tmp, f)
        text = open(path).read()
        if old not in text:
            print("M%d %s: text not found in %s (update the mutant)" %
                  (i, t, f))
            missed += 1
            continue
        open(path, "w").write(text.replace(old, new, 1))
        b = subprocess.run(["make", "NODEPS=1", "-j2",
                            "build/fuzz/replay/" + t], cwd=tmp,
                           capture_output=True, text=True)
        if b.returncode != 0:
            print("M%d %s: build failed: %s" % (i, t, b.stderr[-200:]))
            missed += 1
        else:
            r = subprocess.run(["build/fuzz/replay/" + t,
                                "tests/fuzz/corpus/" + t], cwd=tmp,
                               capture_output=True, text=True,
                               env=dict(os.environ, REPLAY_VERBOSE="1"))
            lines = r.stderr.splitlines()
            why = [l for l in lines if "FUZZ CHECK" in l or
                   "runtime error" in l or "ERROR:" in l]
            inp = [l.rsplit("/", 1)[-1] for l in lines
                   if l.startswith("replay: tests")]
            ok = r.returncode != 0
            missed += not ok
            print("M%d %s (%s): %s%s" % (
                i, t, what, "caught" if ok else "NOT CAUGHT",
                (" by " + (inp[-1] if inp else "?") + ": " +
                 (why[0].split(": ", 2)[-1][:120] if why else "")) if ok
                else ""))
        open(path, "w").write(text)
    print("mutants: %d not caught" % missed)
    subprocess.run(["rm", "-rf", tmp])
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
