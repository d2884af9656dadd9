# The fuzz targets, one per driver kind (tests/fuzz/<name>.cpp). Rowwise (softmax) and
# channelwise (prelu, dice) join when their drivers exist.
set(XACT_FUZZ_TARGETS fuzz_elementwise)
