/* exec: spawning a command with its stdout on a pipe, pumping, reaping. */
#include "config.h"
#include "ice_exec.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

/* The child must not inherit what the parent ignores or blocks. */
static int child_attrs(posix_spawnattr_t *attr)
{
	sigset_t def, none;

	sigemptyset(&none);
	sigemptyset(&def);
	sigaddset(&def, SIGPIPE);
	sigaddset(&def, SIGINT);
	sigaddset(&def, SIGQUIT);
	sigaddset(&def, SIGTERM);
	sigaddset(&def, SIGHUP);
	if (posix_spawnattr_init(attr))
		return -1;
	if (posix_spawnattr_setsigdefault(attr, &def) || posix_spawnattr_setsigmask(attr, &none) ||
	    posix_spawnattr_setflags(attr, POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK)) {
		posix_spawnattr_destroy(attr);
		return -1;
	}
	return 0;
}

int ice_exec_start(const char *const *argv, ice_child *c, ice_err *err)
{
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t attr;
	int fds[2], e;

	c->pid = -1;
	c->out_fd = -1;
	if (!argv || !argv[0])
		return ice_err_set(err, ICE_EINVAL, "no command to run");
	if (pipe2(fds, O_CLOEXEC) != 0)
		return ice_err_set(err, ICE_EIO, "pipe: %s", strerror(errno));
	if (posix_spawn_file_actions_init(&fa)) {
		close(fds[0]);
		close(fds[1]);
		return ice_err_set(err, ICE_ENOMEM, "out of memory");
	}
	/* dup2 clears close-on-exec on the child's stdout only. */
	e = posix_spawn_file_actions_adddup2(&fa, fds[1], STDOUT_FILENO);
	if (!e && (e = child_attrs(&attr)) == 0) {
		e = posix_spawnp(&c->pid, argv[0], &fa, &attr, (char *const *)argv, environ);
		posix_spawnattr_destroy(&attr);
	} else if (!e) {
		e = ENOMEM;
	}
	posix_spawn_file_actions_destroy(&fa);
	close(fds[1]);
	if (e) {
		close(fds[0]);
		c->pid = -1;
		return ice_err_set(err, e == ENOENT ? ICE_ENOENT : ICE_EINVAL, "%s: %s", argv[0],
		                   e == ENOENT ? "command not found" : strerror(e));
	}
	c->out_fd = fds[0];
	return ICE_OK;
}

int ice_exec_pump(ice_child *c, ice_exec_sink on_data, void *ctx, ice_err *err)
{
	char buf[64 * 1024];
	ssize_t got;
	int rc;

	for (;;) {
		got = read(c->out_fd, buf, sizeof buf);
		if (got == 0)
			return ICE_OK;
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0)
			return ice_err_set(err, ICE_EIO, "reading the command's output: %s",
			                   strerror(errno));
		if ((rc = on_data(ctx, buf, (size_t)got)))
			return rc;
	}
}

int ice_exec_wait(ice_child *c, int *status, ice_err *err)
{
	int ws;
	pid_t got;

	if (c->out_fd >= 0) {
		close(c->out_fd);
		c->out_fd = -1;
	}
	if (c->pid <= 0)
		return ice_err_set(err, ICE_EINVAL, "no command to wait for");
	while ((got = waitpid(c->pid, &ws, 0)) < 0 && errno == EINTR)
		;
	c->pid = -1;
	if (got < 0)
		return ice_err_set(err, ICE_EIO, "waiting for the command: %s", strerror(errno));
	*status = WIFEXITED(ws) ? WEXITSTATUS(ws) : WIFSIGNALED(ws) ? 128 + WTERMSIG(ws) : 1;
	return ICE_OK;
}

int ice_exec_start_status(int rc)
{
	return rc == ICE_ENOENT ? 127 : 126;
}
