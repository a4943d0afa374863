/*
 * ctl.h - the txlane operator CLI: one cmd_<name>() per subcommand, each in
 * services/ctl/cmd_<name>.c. A command receives argv with argv[0] being the
 * subcommand name and returns the process exit status: 0 success, 1 failure
 * of the operation, 2 bad arguments or configuration (one-line reason on stderr).
 */
#ifndef TXLANE_CTL_H
#define TXLANE_CTL_H

typedef int (*ctl_cmd_fn)(int argc, char **argv);

int cmd_keccak(int argc, char **argv);
int cmd_sign(int argc, char **argv);
int cmd_decode(int argc, char **argv);
int cmd_derive(int argc, char **argv);
int cmd_xpub(int argc, char **argv);
int cmd_migrate(int argc, char **argv);
int cmd_topics(int argc, char **argv);

/* Prints "txlane <cmd>: <reason>" to stderr and returns 2. */
int ctl_usage_error(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
