/* SPDX-License-Identifier: GPL-2.0 */
/* What the lab's two libbpf loaders (lab-agent, lab-skbtrace) share: stop flag and fatal errors. */
#ifndef LAB_LOADER_H
#define LAB_LOADER_H

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static volatile sig_atomic_t stopping;

static void on_signal(int sig)
{
	(void)sig;
	stopping = 1;
}

/* The program name errors are reported under; each loader defines it. */
static const char *loader_name;

static void die(const char *what, int err)
{
	fprintf(stderr, "%s: %s: %s\n", loader_name, what, strerror(err < 0 ? -err : err));
	exit(1);
}

#endif
