BEGIN { printf("%d %i %u %x %X %o %c %s %5d|%-5d|%05d %%\n", -1, 2, 3u, 255, 255, 8, 'A', "str", 1, 2, 3); exit(0); }
