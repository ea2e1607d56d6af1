// SPDX-License-Identifier: GPL-2.0
/*
 * memcpy_bw - the memory copy bandwidth of this machine (or VM), the
 * physical bound every soft-RDMA bandwidth figure is reported against.
 *
 * Usage: memcpy_bw [--help] [SIZE_MIB [SECONDS]]
 * Prints one JSON object: {"size_bytes": N, "copies": N, "seconds": F,
 * "MBps": F} where MB is 10^6 bytes, as perftest reports.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	size_t mib = 64, size, copies = 0;
	volatile unsigned char sink = 0;
	double seconds = 2.0, start, elapsed;
	char *src, *dst;

	if (argc > 1 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
		printf("Usage: memcpy_bw [SIZE_MIB [SECONDS]]\n"
		       "Copies a SIZE_MIB buffer (default 64) for SECONDS (default 2)\n"
		       "and prints the bandwidth as JSON.\n");
		return 0;
	}
	if (argc > 1)
		mib = strtoul(argv[1], NULL, 10);
	if (argc > 2)
		seconds = strtod(argv[2], NULL);
	if (mib == 0 || mib > 4096 || !(seconds > 0)) {
		fprintf(stderr, "memcpy_bw: SIZE_MIB must be 1..4096 and SECONDS > 0\n");
		return 2;
	}
	size = mib << 20;
	src = malloc(size);
	dst = malloc(size);
	if (!src || !dst) {
		fprintf(stderr, "memcpy_bw: out of memory\n");
		return 1;
	}
	memset(src, 0x5a, size);
	memset(dst, 0, size);
	start = now();
	do {
		memcpy(dst, src, size);
		/* Use the copy, so that it cannot be optimised away. */
		sink ^= dst[(copies * 4099) % size];
		copies++;
		elapsed = now() - start;
	} while (elapsed < seconds);
	(void)sink;
	printf("{\"size_bytes\": %zu, \"copies\": %zu, \"seconds\": %.3f, \"MBps\": %.1f}\n", size,
	       copies, elapsed, (double)size * (double)copies / elapsed / 1e6);
	free(src);
	free(dst);
	return 0;
}
