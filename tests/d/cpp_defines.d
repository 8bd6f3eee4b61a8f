/*
 * -C runs the script through the C preprocessor: -D defines a macro (here a probe name), a
 * #define in the script works, -U undefines one of cpp's own (__linux), and a line marker keeps
 * the lines the script's own.
 *
 * @args: -q -C -Dprobe=BEGIN -U__linux
 */

#define TWICE(x) ((x) * 2)

probe
{
#ifdef __linux
	printf("__linux is still defined\n");
#endif
	printf("%d\n", TWICE(21));
	exit(0);
}
