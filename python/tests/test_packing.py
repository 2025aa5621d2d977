"""Packing, tokenizing, noising, RoPE positions and row masks on many random draws: tfs packs
random examples several to a row and feeds them; the bridge repacks the same examples."""
import pytest

import tfs_torch
from helpers import check_batch, reference, replay_batch

TINY = {"dim": 8, "layers": 1, "heads": 2, "timeFeatures": 4}
BPE = {"merges": [[114, 101], [261, 100], [32, 262], [99, 105], [264, 114], [32, 97], [108, 101], [195, 169]]}
MASKS = ['{"or":[{"causal":{}},{"same_image":{}}]}', '{"causal":{}}', '{"bidirectional":{}}',
         '{"or":[{"window":{"n":4}},{"same_image":{}}]}']


@pytest.mark.parametrize("seed", range(16))
def test_packing_and_feeding_match_tfs(seed, tmp_path):
    p = [1, 2, 4][seed % 3]
    config = {**TINY, "patchSize": 3 * p * p, "imageSide": 4 if p < 4 else 8,
              "objective": ["eps", "v", "flow"][seed % 3 - 1 if seed % 2 else seed % 3],
              "schedule": {"linear": {"steps": 100 + seed}} if seed % 4 == 1 else {"cosine": {"steps": 1000, "offset": 0.008}}}
    if seed % 2:
        config["tokenizer"] = BPE
    length = 48 + 8 * (seed % 5)
    ref, meta, checkpoint = reference(tmp_path, f"s{seed}", config, mask=MASKS[seed % 4], data_seed=seed + 100,
                                      examples=5 + seed % 7, length=length, cap=[500, 20, 0, 1000][seed % 4])
    model = tfs_torch.load(checkpoint)
    rows, order, batch = replay_batch(model, ref, meta, length)
    check_batch(model, ref, rows, order, batch)
