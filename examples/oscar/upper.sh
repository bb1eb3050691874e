#!/bin/bash
# OSCAR's contract: the input file is $INPUT_FILE_PATH; whatever lands in $TMP_OUTPUT_DIR is
# uploaded to every output path.
FILE_NAME=$(basename "$INPUT_FILE_PATH")
echo "uppercasing $FILE_NAME"
tr a-z A-Z < "$INPUT_FILE_PATH" > "$TMP_OUTPUT_DIR/$FILE_NAME"
