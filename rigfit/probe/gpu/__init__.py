"""Pure parsers for what GPU tools print (and what people paste of it), one module per tool, plus the merge of
their records into one GpuInfo per physical GPU (merge.py). Nothing here reads the machine: rigfit/probe/gpus.py
reads through a Source and hands text to these functions."""
