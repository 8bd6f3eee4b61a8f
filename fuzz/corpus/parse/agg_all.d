profile:::tick-10ms
{
	@c = count();
	@s[cpu] = sum(arg0);
	@a = avg(timestamp);
	@mn = min(arg1);
	@mx = max(arg1);
	@sd = stddev(arg0);
}
