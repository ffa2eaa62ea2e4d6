// One accelerator is shared by every test class (compiling kernels is the slow part), and ILGPU's CPU accelerator runs
// one kernel at a time: the test classes run one after another.
[assembly: CollectionBehavior(DisableTestParallelization = true)]
