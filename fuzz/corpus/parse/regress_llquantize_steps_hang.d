int i;
profile:::tick-10ms { @dist = quantize(i++); @l = lquantize(i, 0, 100, 10); @ll = llquantize(i, 10, 0, 6, 210); }
