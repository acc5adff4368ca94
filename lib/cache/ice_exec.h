/* ice_exec: run a command with its standard output on a pipe.
 *
 * The child inherits standard input and standard error (stderr passes
 * through untouched), gets default signal dispositions (an ignored SIGPIPE
 * in the caller would otherwise be inherited) and an empty signal mask.
 * The caller reads the output with ice_exec_pump and reaps the child with
 * ice_exec_wait, which closes what start opened. Signal forwarding is the
 * caller's business (child.pid). */
#ifndef ICE_EXEC_H
#define ICE_EXEC_H

#include <stddef.h>
#include <sys/types.h>

#include "ice_error.h"

typedef struct ice_child {
	pid_t pid;
	int out_fd; /* read end of the child's stdout; -1 once closed */
} ice_child;

/* Start argv[0], looked up in PATH like a shell does. A command that does
 * not exist is ICE_ENOENT, one that cannot be run (permissions, not an
 * executable) ICE_EINVAL; the message names the command. */
int ice_exec_start(const char *const *argv, ice_child *c, ice_err *err);

/* Read the child's output until it closes it, handing each chunk to
 * on_data as it arrives. on_data returning non-zero stops the pump with
 * that code (the caller then still waits for the child). */
typedef int (*ice_exec_sink)(void *ctx, const void *data, size_t len);
int ice_exec_pump(ice_child *c, ice_exec_sink on_data, void *ctx, ice_err *err);

/* Close the pipe and reap the child. *status is the command's exit status,
 * or 128+N when signal N ended it (as a shell reports it). */
int ice_exec_wait(ice_child *c, int *status, ice_err *err);

/* The shell's exit status for a command that could not be started: 127
 * not found, 126 not runnable. */
int ice_exec_start_status(int rc);

#endif
