// Drops the page cache of the given files (posix_fadvise(2),
// POSIX_FADV_DONTNEED: "the specified data will not be accessed in the near
// future"; clean pages are evicted), so bench/fs.js can measure reads that
// go to the device. Only the named files are affected, not the machine's
// cache (no /proc/sys/vm/drop_caches). Their dentries and inodes stay
// cached, so an open still resolves from memory; the data does not.
//
//   drop-cache FILE...      exits 1 if any file could not be opened or advised
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

int main(int argc, char** argv) {
  int bad = 0;
  for (int i = 1; i < argc; i++) {
    int fd = open(argv[i], O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
      fprintf(stderr, "drop-cache: open %s: %s\n", argv[i], strerror(errno));
      bad = 1;
      continue;
    }
    // Dirty pages are not dropped: write them back first.
    if (fdatasync(fd) < 0) bad = 1;
    // posix_fadvise returns the error number instead of setting errno.
    int e = posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
    if (e != 0) {
      fprintf(stderr, "drop-cache: fadvise %s: %s\n", argv[i], strerror(e));
      bad = 1;
    }
    close(fd);
  }
  return bad;
}
