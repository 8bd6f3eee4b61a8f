/*
 * tick-N takes the units ns, us, ms, s and hz (and a bare number is hz); each fires.
 *
 */

#pragma D option quiet

profile:::tick-2000000ns { a++; }
profile:::tick-2000us { b++; }
profile:::tick-2ms { c++; }
profile:::tick-200hz { d++; }
profile:::tick-200 { e++; }

profile:::tick-1s
{
	printf("%s\n", a > 10 && b > 10 && c > 10 && d > 10 && e > 10 &&
	    a < 1000 && b < 1000 && c < 1000 && d < 1000 && e < 1000 ? "ok" : "bad");
	exit(0);
}
