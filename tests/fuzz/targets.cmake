# The fuzz targets, one per driver kind (tests/fuzz/<name>.cpp): elementwise (every registered
# accuracy case), channelwise (PReLU, Dice), rowwise (softmax, log_softmax).
set(XACT_FUZZ_TARGETS fuzz_elementwise fuzz_channelwise fuzz_rowwise)
