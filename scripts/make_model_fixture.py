#!/usr/bin/env python3
"""PyTorch twin of the s2s model: writes the whole-model reference fixture.

Builds the network of docs/model.md (bi-GRU encoder, conditional-GRU decoder with additive
attention, deep output, label-smoothed cross-entropy) by hand from the spec's equations, in
float64, runs it on a small padded batch and writes the loss and the gradient of every parameter
to Tests/S2SModelTests/Fixtures/model_reference.json. The Swift test loads that file (no Python
needed) and must agree to 1e-4 relative error.

Install:  pip install torch numpy
Run:      python scripts/make_model_fixture.py            # writes the fixture
          python scripts/make_model_fixture.py --check    # runs the self-checks, writes nothing

Conventions shared with the Swift model (keep them in sync with docs/model.md):
- Linear maps are y = x·W + b with W stored row-major as [in, out] (not PyTorch's [out, in]).
- GRU gate blocks are ordered [r, z, n]; PyTorch's two-bias form (n = tanh(gx_n + r ⊙ gh_n)).
- Parameters are drawn uniform in ±1 (large enough that attention is far from uniform and its
  gradients are not tiny) and rounded to float32, so that a Float model loads exactly the values
  the float64 reference used; all arithmetic is float64.
- Label smoothing averages -log p over the WHOLE target vocabulary (pad, unk, <s> included), as
  torch.nn.functional.cross_entropy(label_smoothing=ε) does; the loss is the sum over real target
  tokens divided by the number of real target tokens in the batch.

Before writing, the script checks its own implementation independently:
1. its GRU cell equals torch.nn.GRUCell with transposed weights;
2. its masked bidirectional encoder equals torch.nn.GRU(bidirectional) over a packed sequence;
3. its loss equals F.cross_entropy(label_smoothing=ε, ignore_index) on the same logits;
4. the batched loss and gradients equal those of each sentence run alone without padding;
5. garbage token ids in padded positions change neither loss nor gradients;
6. torch.autograd.gradcheck (central differences) agrees with autograd for every parameter;
7. the same model run in float32 stays within 2e-5 of the float64 loss and gradients (error
   measured per tensor as max |difference| / max |reference|), so the fixture is well-conditioned
   enough for a Float implementation to meet the 1e-4 bound;
8. (layernorm case) its hand-written layer normalization equals F.layer_norm; checks 1 and 2
   compare plain GRUs and are skipped there.

Cases: untied, tied, and layernorm (untied, layerNormalization: every GRU's x·W and h·U
normalized over 3H, shifted by b and c, scaled by the gains W.gain and U.gain).
"""

import argparse
import json
import re
import os
import sys

import torch
import torch.nn.functional as F

torch.set_default_dtype(torch.float64)

PAD, UNK, BOS, EOS = 0, 1, 2, 3

# Small shapes, all different so that a transposed or swapped dimension cannot go unnoticed.
DIMENSIONS = dict(
    sourceVocabularySize=13,
    targetVocabularySize=11,
    embeddingSize=4,   # E; also the deep-output width, which is what allows tying
    hiddenSize=5,      # H
    attentionSize=6,   # A
)
LABEL_SMOOTHING = 0.1

# Each sentence ends in </s> inside its length. Lengths differ on both sides and are not sorted
# the same way, the third source sentence is </s> alone, and ids repeat so that embedding
# gradients must accumulate.
SOURCE_SENTENCES = [
    [5, 9, 12, 5, 7, EOS],
    [11, 4, EOS],
    [EOS],
]
TARGET_SENTENCES = [
    [6, 4, 10, EOS],
    [9, 7, 7, 5, 8, 10, EOS],
    [UNK, EOS],
]


def parameter_shapes(config):
    """The spec's parameter table: (name, shape) in ParameterStore order."""
    Vs, Vt = config["sourceVocabularySize"], config["targetVocabularySize"]
    E, H, A = config["embeddingSize"], config["hiddenSize"], config["attentionSize"]
    C = 2 * H

    def gru_shapes(prefix, inputs):
        shapes = [(f"{prefix}.W", [inputs, 3 * H]), (f"{prefix}.b", [3 * H]),
                  (f"{prefix}.U", [H, 3 * H]), (f"{prefix}.c", [3 * H])]
        if config["layerNormalization"]:
            shapes += [(f"{prefix}.W.gain", [3 * H]), (f"{prefix}.U.gain", [3 * H])]
        return shapes

    shapes = [("source.embedding", [Vs, E]), ("target.embedding", [Vt, E])]
    shapes += gru_shapes("encoder.forward", E) + gru_shapes("encoder.backward", E)
    shapes += [("decoder.init.W", [C, H]), ("decoder.init.b", [H])]
    shapes += gru_shapes("decoder.gru1", E)
    shapes += [("attention.Wq", [H, A]), ("attention.bq", [A]),
               ("attention.Uk", [C, A]), ("attention.v", [A])]
    shapes += gru_shapes("decoder.gru2", C)
    shapes += [("output.Ws", [H, E]), ("output.Wy", [E, E]), ("output.Wc", [C, E]),
               ("output.b", [E])]
    if not config["tiedEmbeddings"]:
        shapes.append(("output.Wo", [E, Vt]))
    shapes.append(("output.bo", [Vt]))
    return shapes


def make_parameters(config, seed):
    """Uniform ±1 parameters (layer-norm gains uniform in 1 ± 0.5), rounded to float32 values,
    held as float64 leaves."""
    generator = torch.Generator().manual_seed(seed)
    parameters = {}
    for name, shape in parameter_shapes(config):
        values = 2 * torch.rand(shape, generator=generator, dtype=torch.float64) - 1
        if name.endswith(".gain"):
            values = 1 + 0.5 * values
        values = values.to(torch.float32).to(torch.float64)
        parameters[name] = values.requires_grad_(True)
    return parameters


def pad(sentences):
    """Sentences → (ids [B, L] padded with 0, lengths [B])."""
    max_length = max(len(s) for s in sentences)
    ids = torch.zeros(len(sentences), max_length, dtype=torch.long)
    for row, sentence in enumerate(sentences):
        ids[row, :len(sentence)] = torch.tensor(sentence)
    return ids, torch.tensor([len(s) for s in sentences])


# ---------------------------------------------------------------------------------------------
# The model, equation by equation from docs/model.md.


LAYER_NORM_EPSILON = 1e-5


def layer_norm(v, gain, shift):
    """Per row over the last axis: gain ⊙ (v − mean) / √(biased variance + ε) + shift."""
    mean = v.mean(-1, keepdim=True)
    variance = ((v - mean) ** 2).mean(-1, keepdim=True)
    return gain * (v - mean) / torch.sqrt(variance + LAYER_NORM_EPSILON) + shift


def gru_cell(x, h, W, b, U, c, W_gain=None, U_gain=None):
    """PyTorch's GRU with two biases; with gains, x·W and h·U are layer-normalized over 3H and
    b, c are the normalizations' shifts. x: [B, in], h: [B, H] → h': [B, H]."""
    H = h.shape[1]
    if W_gain is None:
        gx = x @ W + b  # [B, 3H]
        gh = h @ U + c  # [B, 3H]
    else:
        gx = layer_norm(x @ W, W_gain, b)
        gh = layer_norm(h @ U, U_gain, c)
    r = torch.sigmoid(gx[:, :H] + gh[:, :H])
    z = torch.sigmoid(gx[:, H:2 * H] + gh[:, H:2 * H])
    n = torch.tanh(gx[:, 2 * H:] + r * gh[:, 2 * H:])
    return (1 - z) * n + z * h


def gru(p, prefix, x, h):
    return gru_cell(x, h, p[prefix + ".W"], p[prefix + ".b"], p[prefix + ".U"], p[prefix + ".c"],
                    p.get(prefix + ".W.gain"), p.get(prefix + ".U.gain"))


def encode(p, source_ids, source_lengths):
    """Masked bi-GRU. ids: [B, S] → annotations [B, S, 2H] (0 at padding), mask [B, S]."""
    B, S = source_ids.shape
    H = p["encoder.forward.U"].shape[0]
    x = p["source.embedding"][source_ids]  # [B, S, E]
    mask = (torch.arange(S)[None, :] < source_lengths[:, None]).to(x.dtype)  # [B, S]

    # A padded position carries the previous state unchanged (out = m·new + (1−m)·prev), so the
    # forward state stops at the last real token and the backward state is still h = 0 when it
    # reaches each sentence's own last real token.
    forward_states = [None] * S
    h = x.new_zeros(B, H)
    for j in range(S):
        m = mask[:, j:j + 1]
        h = m * gru(p, "encoder.forward", x[:, j], h) + (1 - m) * h
        forward_states[j] = m * h
    backward_states = [None] * S
    h = x.new_zeros(B, H)
    for j in reversed(range(S)):
        m = mask[:, j:j + 1]
        h = m * gru(p, "encoder.backward", x[:, j], h) + (1 - m) * h
        backward_states[j] = m * h
    annotations = torch.cat([torch.stack(forward_states, 1), torch.stack(backward_states, 1)], 2)
    return annotations, mask


def decode_logits(p, annotations, mask, source_lengths, target_ids, tied):
    """Conditional GRU with additive attention and deep output (teacher forcing).

    annotations: [B, S, C], target_ids: [B, T] (y_1 … y_n </s>, padded) → logits [B, T, Vt].
    """
    B, T = target_ids.shape
    # s_0 = tanh(mean over real positions of h_j · W_init + b_init)
    mean_annotation = (annotations * mask[:, :, None]).sum(1) / source_lengths[:, None]
    s = torch.tanh(mean_annotation @ p["decoder.init.W"] + p["decoder.init.b"])  # [B, H]
    keys = annotations @ p["attention.Uk"]  # [B, S, A], once per sentence

    # Decoder input: <s> y_1 … y_{T-1} (shifted right; inputs at padded steps are irrelevant).
    inputs = torch.cat([torch.full((B, 1), BOS, dtype=torch.long), target_ids[:, :-1]], 1)
    embedded = p["target.embedding"][inputs]  # [B, T, E]
    output_matrix = p["target.embedding"].t() if tied else p["output.Wo"]  # [E, Vt]

    logits = []
    for i in range(T):
        y_previous = embedded[:, i]                                           # [B, E]
        s_proposal = gru(p, "decoder.gru1", y_previous, s)                    # s'_i [B, H]
        query = s_proposal @ p["attention.Wq"] + p["attention.bq"]           # [B, A]
        scores = torch.tanh(query[:, None, :] + keys) @ p["attention.v"]      # e_ij [B, S]
        scores = scores.masked_fill(mask == 0, float("-inf"))
        alpha = torch.softmax(scores, dim=1)                                  # [B, S]
        context = (alpha[:, :, None] * annotations).sum(1)                    # c_i [B, C]
        s = gru(p, "decoder.gru2", context, s_proposal)                       # s_i [B, H]
        deep = torch.tanh(s @ p["output.Ws"] + y_previous @ p["output.Wy"]
                          + context @ p["output.Wc"] + p["output.b"])         # t_i [B, E]
        logits.append(deep @ output_matrix + p["output.bo"])                  # [B, Vt]
    return torch.stack(logits, 1)


def forward_logits(p, source_ids, source_lengths, target_ids, tied):
    annotations, mask = encode(p, source_ids, source_lengths)
    return decode_logits(p, annotations, mask, source_lengths, target_ids, tied)


def smoothed_token_losses(logits, target_ids, target_lengths, epsilon):
    """loss_i = (1−ε)(−log p[y_i]) + ε·mean_v(−log p[v]); 0 at padded positions. → [B, T]"""
    T = target_ids.shape[1]
    log_probabilities = torch.log_softmax(logits, dim=2)  # [B, T, Vt]
    gold = -log_probabilities.gather(2, target_ids[:, :, None])[:, :, 0]
    uniform = -log_probabilities.mean(2)
    target_mask = (torch.arange(T)[None, :] < target_lengths[:, None]).to(logits.dtype)
    return ((1 - epsilon) * gold + epsilon * uniform) * target_mask


def model_loss(p, batch, tied, epsilon):
    source_ids, source_lengths, target_ids, target_lengths = batch
    logits = forward_logits(p, source_ids, source_lengths, target_ids, tied)
    token_losses = smoothed_token_losses(logits, target_ids, target_lengths, epsilon)
    return token_losses.sum() / target_lengths.sum()


# ---------------------------------------------------------------------------------------------
# Independent checks of the implementation above.


def assert_close(name, actual, expected, tolerance=1e-10):
    """Relative to the tensor's largest entry: max |actual − expected| ≤ tolerance · max |expected|."""
    actual, expected = torch.as_tensor(actual), torch.as_tensor(expected)
    difference = (actual - expected).abs().max().item()
    scale = expected.abs().max().item()
    if difference > tolerance * scale:
        sys.exit(f"make_model_fixture: check failed: {name}: max |difference| {difference:.3e} "
                 f"(scale {scale:.3e})")


def gradients_of(p, loss):
    names = list(p)
    grads = torch.autograd.grad(loss, [p[n] for n in names], allow_unused=True)
    return {n: (g if g is not None else torch.zeros_like(p[n])) for n, g in zip(names, grads)}


def check_gru_cell_against_torch(p):
    """Our [in, out] two-bias GRU equals nn.GRUCell with weights transposed to [out, in]."""
    cell = torch.nn.GRUCell(p["encoder.forward.W"].shape[0], p["encoder.forward.U"].shape[0])
    with torch.no_grad():
        cell.weight_ih.copy_(p["encoder.forward.W"].t())
        cell.weight_hh.copy_(p["encoder.forward.U"].t())
        cell.bias_ih.copy_(p["encoder.forward.b"])
        cell.bias_hh.copy_(p["encoder.forward.c"])
        generator = torch.Generator().manual_seed(7)
        x = torch.randn(4, cell.input_size, generator=generator)
        h = torch.randn(4, cell.hidden_size, generator=generator)
        assert_close("GRU cell vs torch.nn.GRUCell", gru(p, "encoder.forward", x, h), cell(x, h))


def check_layer_norm_against_torch():
    """Our layer normalization equals F.layer_norm (biased variance, ε = 1e-5)."""
    generator = torch.Generator().manual_seed(11)
    v = 3 * torch.randn(4, 15, generator=generator) + 2
    gain, shift = torch.randn(15, generator=generator), torch.randn(15, generator=generator)
    assert_close("layer norm vs F.layer_norm", layer_norm(v, gain, shift),
                 F.layer_norm(v, (15,), gain, shift, eps=LAYER_NORM_EPSILON))


def check_encoder_against_packed_torch_gru(p, source_ids, source_lengths):
    """Our masked encoder equals a bidirectional nn.GRU run over a packed padded sequence,
    whose backward direction also starts at each sentence's own last real token."""
    E, H = p["encoder.forward.W"].shape[0], p["encoder.forward.U"].shape[0]
    network = torch.nn.GRU(E, H, batch_first=True, bidirectional=True)
    with torch.no_grad():
        for suffix, direction in (("", "forward"), ("_reverse", "backward")):
            getattr(network, "weight_ih_l0" + suffix).copy_(p[f"encoder.{direction}.W"].t())
            getattr(network, "weight_hh_l0" + suffix).copy_(p[f"encoder.{direction}.U"].t())
            getattr(network, "bias_ih_l0" + suffix).copy_(p[f"encoder.{direction}.b"])
            getattr(network, "bias_hh_l0" + suffix).copy_(p[f"encoder.{direction}.c"])
        embedded = p["source.embedding"][source_ids]
        packed = torch.nn.utils.rnn.pack_padded_sequence(
            embedded, source_lengths, batch_first=True, enforce_sorted=False)
        output, _ = network(packed)
        expected, _ = torch.nn.utils.rnn.pad_packed_sequence(
            output, batch_first=True, total_length=source_ids.shape[1])
        annotations, _ = encode(p, source_ids, source_lengths)
        assert_close("encoder vs packed bidirectional torch.nn.GRU", annotations, expected)


def check_loss_against_cross_entropy(p, batch, tied, epsilon):
    """Our smoothed loss equals F.cross_entropy(label_smoothing=ε) ignoring padded targets."""
    source_ids, source_lengths, target_ids, target_lengths = batch
    with torch.no_grad():
        logits = forward_logits(p, source_ids, source_lengths, target_ids, tied)
        T = target_ids.shape[1]
        gold = target_ids.clone()
        gold[torch.arange(T)[None, :] >= target_lengths[:, None]] = -100
        expected = F.cross_entropy(logits.reshape(-1, logits.shape[2]), gold.reshape(-1),
                                   ignore_index=-100, label_smoothing=epsilon, reduction="mean")
        assert_close("loss vs F.cross_entropy(label_smoothing)",
                     model_loss(p, batch, tied, epsilon), expected)


def check_against_unpadded_sentences(p, batch, tied, epsilon, loss, grads):
    """The batch equals its sentences run one at a time with no padding at all: padding must
    neither leak into the loss nor into any gradient."""
    source_ids, source_lengths, target_ids, target_lengths = batch
    total_tokens = target_lengths.sum()
    summed_loss = torch.zeros(())
    summed_grads = {n: torch.zeros_like(t) for n, t in p.items()}
    for row in range(source_ids.shape[0]):
        S, T = source_lengths[row].item(), target_lengths[row].item()
        single = (source_ids[row:row + 1, :S], source_lengths[row:row + 1],
                  target_ids[row:row + 1, :T], target_lengths[row:row + 1])
        token_sum = model_loss(p, single, tied, epsilon) * T  # back to a sum over tokens
        row_grads = gradients_of(p, token_sum / total_tokens)
        summed_loss = summed_loss + token_sum.detach() / total_tokens
        for n in summed_grads:
            summed_grads[n] += row_grads[n]
    assert_close("batched loss vs unpadded sentences", loss, summed_loss)
    for n in p:
        assert_close(f"batched gradient {n} vs unpadded sentences", grads[n], summed_grads[n])


def check_padding_ids_are_ignored(p, batch, tied, epsilon, loss, grads):
    """Arbitrary ids in padded positions change nothing (the model masks by length, not id)."""
    source_ids, source_lengths, target_ids, target_lengths = batch
    garbage_source, garbage_target = source_ids.clone(), target_ids.clone()
    for ids, lengths in ((garbage_source, source_lengths), (garbage_target, target_lengths)):
        for row in range(ids.shape[0]):
            ids[row, lengths[row]:] = 4 + (row % 5)
    garbage = (garbage_source, source_lengths, garbage_target, target_lengths)
    garbage_loss = model_loss(p, garbage, tied, epsilon)
    garbage_grads = gradients_of(p, garbage_loss)
    assert_close("loss with garbage padding ids", garbage_loss, loss)
    for n in p:
        assert_close(f"gradient {n} with garbage padding ids", garbage_grads[n], grads[n])


def check_gradients_numerically(p, batch, tied, epsilon):
    """Central differences (torch.autograd.gradcheck) agree with autograd for every parameter."""
    names = list(p)

    def loss_of(*tensors):
        return model_loss(dict(zip(names, tensors)), batch, tied, epsilon)

    inputs = tuple(p[n].detach().clone().requires_grad_(True) for n in names)
    if not torch.autograd.gradcheck(loss_of, inputs, eps=1e-6, atol=1e-8, rtol=1e-6):
        sys.exit("make_model_fixture: check failed: gradcheck")


def check_float32_conditioning(p, batch, tied, epsilon, loss, grads):
    """A float32 run of this very model meets the Swift test's bound with a wide margin; a
    fixture whose gradients cancel down to rounding noise would fail here first."""
    single = {n: t.detach().to(torch.float32).requires_grad_(True) for n, t in p.items()}
    single_loss = model_loss(single, batch, tied, epsilon)
    single_grads = gradients_of(single, single_loss)
    assert_close("float32 loss", single_loss.double(), loss, tolerance=2e-5)
    for n in p:
        assert_close(f"float32 gradient {n}", single_grads[n].double(), grads[n], tolerance=2e-5)


# ---------------------------------------------------------------------------------------------
# Fixture.


def tensor_entry(tensor):
    return {"shape": list(tensor.shape), "values": [float(v) for v in tensor.detach().reshape(-1)]}


def token_matrix(ids, lengths):
    return {"batchSize": ids.shape[0], "maxLength": ids.shape[1],
            "ids": [int(v) for v in ids.reshape(-1)], "lengths": [int(v) for v in lengths]}


def model_config(tied, layer_normalization):
    # Every ModelConfig field, so that Swift's synthesized Decodable can read it directly;
    # dropout is off because the reference is deterministic.
    return dict(DIMENSIONS, embeddingDropout=0.0, stateDropout=0.0, outputDropout=0.0,
                labelSmoothing=LABEL_SMOOTHING, tiedEmbeddings=tied,
                layerNormalization=layer_normalization)


def make_case(name, tied, seed, run_gradcheck, layer_normalization=False):
    config = model_config(tied, layer_normalization)
    p = make_parameters(config, seed)
    source_ids, source_lengths = pad(SOURCE_SENTENCES)
    target_ids, target_lengths = pad(TARGET_SENTENCES)
    batch = (source_ids, source_lengths, target_ids, target_lengths)

    loss = model_loss(p, batch, tied, LABEL_SMOOTHING)
    grads = gradients_of(p, loss)
    loss = loss.detach()

    if layer_normalization:
        check_layer_norm_against_torch()
    else:
        check_gru_cell_against_torch(p)
        check_encoder_against_packed_torch_gru(p, source_ids, source_lengths)
    check_loss_against_cross_entropy(p, batch, tied, LABEL_SMOOTHING)
    check_against_unpadded_sentences(p, batch, tied, LABEL_SMOOTHING, loss, grads)
    check_padding_ids_are_ignored(p, batch, tied, LABEL_SMOOTHING, loss, grads)
    check_float32_conditioning(p, batch, tied, LABEL_SMOOTHING, loss, grads)
    if run_gradcheck:
        check_gradients_numerically(p, batch, tied, LABEL_SMOOTHING)
    print(f"make_model_fixture: case {name}: loss {loss.item():.17g}, all checks passed",
          file=sys.stderr)

    names = [n for n, _ in parameter_shapes(config)]
    return {
        "name": name,
        "config": config,
        "source": token_matrix(source_ids, source_lengths),
        "target": token_matrix(target_ids, target_lengths),
        "parameters": {n: tensor_entry(p[n]) for n in names},
        "loss": loss.item(),
        "gradients": {n: tensor_entry(grads[n]) for n in names},
    }


def write_fixture(fixture, path):
    """JSON with one tensor per line: small, diffable, exact (repr of each float64)."""
    text = json.dumps(fixture, indent=1)
    # Collapse the long numeric lists that indent=1 spreads over one line per number.
    text = re.sub(r"\[\s+([^\[\]{}\"]*?)\s+\]",
                  lambda m: "[" + ", ".join(v.strip() for v in m.group(1).split(",")) + "]",
                  text)
    temporary = path + ".tmp"
    with open(temporary, "w") as f:
        f.write(text + "\n")
    os.replace(temporary, path)


def main():
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output", default=os.path.join(
        root, "Tests", "S2SModelTests", "Fixtures", "model_reference.json"))
    parser.add_argument("--check", action="store_true", help="run the checks, write nothing")
    parser.add_argument("--skip-gradcheck", action="store_true",
                        help="skip the (slowest) finite-difference check")
    arguments = parser.parse_args()

    cases = [make_case("untied", tied=False, seed=1234, run_gradcheck=not arguments.skip_gradcheck),
             make_case("tied", tied=True, seed=5678, run_gradcheck=not arguments.skip_gradcheck),
             make_case("layernorm", tied=False, seed=9012, run_gradcheck=not arguments.skip_gradcheck,
                       layer_normalization=True)]
    fixture = {"generator": "scripts/make_model_fixture.py", "config": cases[0]["config"],
               "cases": cases}
    if not arguments.check:
        write_fixture(fixture, arguments.output)
        print(f"make_model_fixture: wrote {arguments.output} "
              f"({os.path.getsize(arguments.output)} bytes)", file=sys.stderr)


if __name__ == "__main__":
    main()
