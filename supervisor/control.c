/*
 * control.c: the control socket. A Unix stream socket in a 0700 directory,
 * mode 0600; the peer's uid must be ours (or root). One request line, one
 * JSON answer, close. Requests: "workers".
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <jansson.h>

#include "log.h"
#include "supervisor.h"
#include "util.h"

int
control_open(const char *path)
{
	struct sockaddr_un sa;
	char dir[PATH_MAX], *slash;
	struct stat sb;
	int fd;

	if (strlen(path) >= sizeof(sa.sun_path)) {
		log_error("control socket \"%s\": path too long", path);
		return -1;
	}
	snprintf(dir, sizeof(dir), "%s", path);
	if ((slash = strrchr(dir, '/')) != NULL && slash != dir) {
		*slash = '\0';
		if (mkdir(dir, 0700) == -1 && errno != EEXIST) {
			log_warn("control socket directory \"%s\"", dir);
			return -1;
		}
		if (stat(dir, &sb) == -1 || !S_ISDIR(sb.st_mode) ||
		    sb.st_uid != geteuid() || (sb.st_mode & 077) != 0) {
			log_error("control socket directory \"%s\": must be a "
			    "directory of ours with mode 0700", dir);
			return -1;
		}
	}
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK,
	    0)) == -1) {
		log_warn("control socket");
		return -1;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	memcpy(sa.sun_path, path, strlen(path) + 1);
	/* A socket file left by a dead supervisor: anyone answering? */
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0) {
		log_error("control socket \"%s\": another supervisor answers "
		    "there", path);
		close(fd);
		return -1;
	}
	(void)unlink(path);
	close(fd);
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK,
	    0)) == -1) {
		log_warn("control socket");
		return -1;
	}
	{
		mode_t old = umask(0177);
		int r = bind(fd, (struct sockaddr *)&sa, sizeof(sa));

		umask(old);
		if (r == -1) {
			log_warn("control socket \"%s\": bind", path);
			close(fd);
			return -1;
		}
	}
	if (chmod(path, 0600) == -1 || listen(fd, 16) == -1) {
		log_warn("control socket \"%s\"", path);
		close(fd);
		return -1;
	}
	return fd;
}

void
control_close(int lfd, const char *path)
{
	if (lfd == -1)
		return;
	close(lfd);
	(void)unlink(path);
}

static json_t *
workers_json(void)
{
	json_t *root, *pools, *ws, *w;
	char idtxt[UUID_STRLEN + 1];
	int64_t now = now_ms();
	int i, j;

	root = json_object();
	pools = json_array();
	ws = json_array();
	json_object_set_new(root, "node", json_string(S.node));
	json_object_set_new(root, "leader", json_boolean(S.leader));
	json_object_set_new(root, "stopping", json_boolean(S.stopping));
	for (i = 0; i < S.npools; i++) {
		struct pool *p = S.pools[i];

		json_array_append_new(pools, json_pack("{s:s, s:s, s:i, s:b, "
		    "s:I, s:I}", "name", p->conf.name, "queue", p->conf.queue,
		    "workers", p->conf.workers, "failing", p->failing,
		    "restarts", (json_int_t)p->total_restarts,
		    "hang_kills", (json_int_t)p->hang_kills));
		for (j = 0; j < p->nslots; j++) {
			struct slot *sl = &p->slots[j];
			static const char *const st[] = { "idle", "busy",
			    "draining" };

			if (sl->cur_set)
				uuid_fmt(&sl->cur, idtxt);
			w = json_pack("{s:s, s:s, s:i, s:i, s:s, s:I, s:i, "
			    "s:i, s:I, s:I, s:I}", "node", S.node, "pool",
			    p->conf.name, "slot", j, "pid", (int)sl->pid,
			    "state", sl->st == SL_DOWN ? (p->failing ?
			    "failing" : "down") : sl->st == SL_STOPPING ?
			    "stopping" : sl->hello ? st[sl->wstate % 3] :
			    "starting",
			    "heartbeat_age_ms", sl->st == SL_DOWN ?
			    (json_int_t)-1 : (json_int_t)(now - sl->last_hb),
			    "restarts", (int)sl->restarts,
			    "hang_kills", (int)sl->hang_kills,
			    "rss_kb", (json_int_t)sl->rss_kb,
			    "succeeded", (json_int_t)sl->succeeded,
			    "failed", (json_int_t)sl->failed);
			json_object_set_new(w, "task", sl->cur_set ?
			    json_string(idtxt) : json_null());
			json_object_set_new(w, "progress",
			    json_integer(sl->cur_set ? sl->progress : 0));
			json_array_append_new(ws, w);
		}
	}
	json_object_set_new(root, "pools", pools);
	json_object_set_new(root, "workers", ws);
	return root;
}

void
control_accept(int lfd)
{
	struct ucred cred;
	socklen_t len = sizeof(cred);
	char req[128], *out = NULL;
	json_t *j = NULL;
	ssize_t n;
	size_t off, total;
	int fd;

	while ((fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC)) != -1) {
		if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) ==
		    -1 || (cred.uid != geteuid() && cred.uid != 0)) {
			log_warnx("event=control_refused uid=%d pid=%d",
			    (int)cred.uid, (int)cred.pid);
			close(fd);
			continue;
		}
		if (read_request(fd, req, sizeof(req), 200) <= 0) {
			close(fd);
			continue;
		}
		req[strcspn(req, "\r\n")] = '\0';
		if (strcmp(req, "workers") == 0)
			j = workers_json();
		else
			j = json_pack("{s:s}", "error", "unknown request");
		out = json_dumps(j, JSON_COMPACT);
		json_decref(j);
		if (out != NULL) {
			total = strlen(out);
			for (off = 0; off < total; off += (size_t)n) {
				n = write(fd, out + off, total - off);
				if (n <= 0)
					break;
			}
			(void)!write(fd, "\n", 1);
			free(out);
		}
		close(fd);
	}
}
