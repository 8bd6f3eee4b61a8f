int i;
profile:::tick-1s /i++ > 3/
