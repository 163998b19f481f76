"""What every concept uses: the caller and their scope (D4), single-writer saves, paging, refusals."""
