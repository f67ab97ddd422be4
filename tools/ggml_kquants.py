"""numpy ports of ggml's reference quantizers for the K-quants (quantize_row_q4_K_ref, quantize_row_q6_K_ref), which
gguf-py 0.19 lacks: tools/make_goldens.py writes its Q4_K/Q6_K fixtures with them and tools/make_bench_models.py
its Q4_K_M benchmark file. Needs numpy and gguf only."""

import gguf
import numpy as np
from gguf import GGMLQuantizationType as QT

QK_K = 256
GROUP_MAX_EPS = np.float32(1e-15)
_F = np.float32


def _nearest_int(v: np.ndarray) -> np.ndarray:
    """ggml's nearest_int (the 1.5*2^23 trick): round half to even, as float32."""
    return np.rint(v)


def _make_qkx2_quants(x: np.ndarray, w: np.ndarray, nmax: int, rmin: float, rdelta: float, nstep: int):
    """Port of ggml-quants.c make_qkx2_quants (use_mad=false), vectorized over groups: x, w are
    (groups, n) float32. Every sum runs sequentially over n in float32, in ggml's order.
    Returns (scale (groups,), the_min (groups,), L (groups, n) uint8)."""
    G, n = x.shape
    mn, mx = x[:, 0].copy(), x[:, 0].copy()
    sum_w = w[:, 0].copy()
    sum_x = sum_w * x[:, 0]
    for i in range(1, n):
        mn = np.where(x[:, i] < mn, x[:, i], mn)
        mx = np.where(x[:, i] > mx, x[:, i], mx)
        sum_w = sum_w + w[:, i]
        sum_x = sum_x + w[:, i] * x[:, i]
    mn = np.where(mn > 0, _F(0), mn)
    flat = mx == mn
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        iscale = _F(nmax) / (mx - mn)
        scale = _F(1) / iscale
        L = np.clip(_nearest_int(iscale[:, None] * (x - mn[:, None])), 0, nmax)
        best = np.zeros(G, _F)
        for i in range(n):
            diff = scale * L[:, i] + mn - x[:, i]
            best = best + w[:, i] * (diff * diff)
        for step in range(nstep + 1):
            # mn is the best min so far (ggml updates it inside this loop too)
            iscale = (_F(rmin) + _F(rdelta) * _F(step) + _F(nmax)) / (mx - mn)
            laux = np.clip(_nearest_int(iscale[:, None] * (x - mn[:, None])), 0, nmax)
            sum_l, sum_l2, sum_xl = np.zeros(G, _F), np.zeros(G, _F), np.zeros(G, _F)
            for i in range(n):
                wl = w[:, i] * laux[:, i]
                sum_l = sum_l + wl
                sum_l2 = sum_l2 + wl * laux[:, i]
                sum_xl = sum_xl + wl * x[:, i]
            D = sum_w * sum_l2 - sum_l * sum_l
            this_scale = (sum_w * sum_xl - sum_x * sum_l) / D
            this_min = (sum_l2 * sum_x - sum_l * sum_xl) / D
            pos = this_min > 0
            this_min = np.where(pos, _F(0), this_min)
            this_scale = np.where(pos, sum_xl / sum_l2, this_scale)
            cur = np.zeros(G, _F)
            for i in range(n):
                diff = this_scale * laux[:, i] + this_min - x[:, i]
                cur = cur + w[:, i] * (diff * diff)
            better = (D > 0) & (cur < best) & ~flat
            L = np.where(better[:, None], laux, L)
            best = np.where(better, cur, best)
            scale = np.where(better, this_scale, scale)
            mn = np.where(better, this_min, mn)
    L = np.where(flat[:, None], _F(0), L)
    scale = np.where(flat, _F(0), scale)
    return scale.astype(_F), (-mn).astype(_F), L.astype(np.uint8)


def _make_qx_quants_rmse1(x: np.ndarray, nmax: int):
    """Port of ggml-quants.c make_qx_quants(n, nmax, x, L, rmse_type=1, qw=NULL), vectorized over
    groups (x: (groups, n) float32). Returns (scale (groups,), L (groups, n) in [0, 2*nmax))."""
    G, n = x.shape
    amax, mx = np.zeros(G, _F), np.zeros(G, _F)
    for i in range(n):
        ax = np.abs(x[:, i])
        upd = ax > amax
        amax = np.where(upd, ax, amax)
        mx = np.where(upd, x[:, i], mx)
    zero = amax < GROUP_MAX_EPS

    def quant(iscale):
        l = np.clip(_nearest_int(iscale[:, None] * x), -nmax, nmax - 1)
        sumlx, suml2 = np.zeros(G, _F), np.zeros(G, _F)
        for i in range(n):
            wi = x[:, i] * x[:, i]
            sumlx = sumlx + wi * x[:, i] * l[:, i]
            suml2 = suml2 + wi * l[:, i] * l[:, i]
        return l, sumlx, suml2

    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        l, sumlx, suml2 = quant(_F(-nmax) / mx)
        L = l + nmax
        scale = np.where(suml2 != 0, sumlx / suml2, _F(0))
        best = scale * sumlx
        for step in range(-9, 10):
            if step == 0:
                continue
            l, sumlx, suml2 = quant(-(_F(nmax) + _F(0.1) * _F(step)) / mx)
            better = (suml2 > 0) & (sumlx * sumlx > best * suml2) & ~zero
            L = np.where(better[:, None], l + nmax, L)
            scale = np.where(better, sumlx / suml2, scale)
            best = np.where(better, scale * sumlx, best)
    L = np.where(zero[:, None], _F(0), L)
    scale = np.where(zero, _F(0), scale)
    return scale.astype(_F), L


def quantize_q4_k(data: np.ndarray) -> np.ndarray:
    """numpy port of ggml-quants.c quantize_row_q4_K_ref (what llama-quantize runs for Q4_K without
    an imatrix). Block: d f16 | dmin f16 | scales[12] (6-bit packed) | qs[128]. Returns the uint8
    byte array with gguf.quants.quantize's shape convention."""
    x = np.ascontiguousarray(data, dtype=_F).reshape(-1, QK_K)
    nb = x.shape[0]
    sub = x.reshape(nb * 8, 32)
    sum_x2 = np.zeros(nb * 8, _F)
    for l in range(32):
        sum_x2 = sum_x2 + sub[:, l] * sub[:, l]
    av_x = np.sqrt(sum_x2 / _F(32))
    weights = av_x[:, None] + np.abs(sub)
    scales, mins, L = _make_qkx2_quants(sub, weights, 15, -1.0, 0.1, 20)
    scales, mins, L = scales.reshape(nb, 8), mins.reshape(nb, 8), L.reshape(nb, QK_K)

    max_scale, max_min = np.zeros(nb, _F), np.zeros(nb, _F)
    for j in range(8):
        max_scale = np.where(scales[:, j] > max_scale, scales[:, j], max_scale)
        max_min = np.where(mins[:, j] > max_min, mins[:, j], max_min)
    with np.errstate(divide="ignore"):
        inv_scale = np.where(max_scale > 0, _F(63) / max_scale, _F(0))
        inv_min = np.where(max_min > 0, _F(63) / max_min, _F(0))
    # uint8_t ls = nearest_int(...); ls = MIN(63, ls)
    ls = np.minimum(63, _nearest_int(inv_scale[:, None] * scales).astype(np.int64) & 0xFF).astype(np.uint8)
    lm = np.minimum(63, _nearest_int(inv_min[:, None] * mins).astype(np.int64) & 0xFF).astype(np.uint8)
    sc = np.zeros((nb, 12), np.uint8)
    sc[:, 0:4] = ls[:, 0:4] | ((ls[:, 4:8] >> 4) << 6)
    sc[:, 4:8] = lm[:, 0:4] | ((lm[:, 4:8] >> 4) << 6)
    sc[:, 8:12] = (ls[:, 4:8] & 0xF) | ((lm[:, 4:8] & 0xF) << 4)
    d16 = (max_scale / _F(63)).astype(np.float16)
    dmin16 = (max_min / _F(63)).astype(np.float16)

    # re-quantize against the stored (fp16 x 6-bit) scales; sub-blocks with d == 0 keep their L
    d = (d16.astype(_F)[:, None] * ls.astype(_F))[:, :, None]      # (nb, 8, 1)
    dm = (dmin16.astype(_F)[:, None] * lm.astype(_F))[:, :, None]
    xs = x.reshape(nb, 8, 32)
    with np.errstate(divide="ignore", invalid="ignore"):
        lq = np.clip(_nearest_int((xs + dm) / d), 0, 15)
    L = np.where(d != 0, lq, L.reshape(nb, 8, 32).astype(_F)).astype(np.uint8).reshape(nb, 4, 2, 32)
    qs = (L[:, :, 0, :] | (L[:, :, 1, :] << 4)).reshape(nb, 128)

    blocks = np.concatenate([d16.view(np.uint8).reshape(nb, 2), dmin16.view(np.uint8).reshape(nb, 2), sc, qs], axis=1)
    assert blocks.shape[1] == gguf.GGML_QUANT_SIZES[QT.Q4_K][1]
    return blocks.reshape(*data.shape[:-1], data.shape[-1] // QK_K * blocks.shape[1])


def quantize_q6_k(data: np.ndarray) -> np.ndarray:
    """numpy port of ggml-quants.c quantize_row_q6_K_ref. Block: ql[128] | qh[64] | scales[16]
    (int8) | d f16."""
    x = np.ascontiguousarray(data, dtype=_F).reshape(-1, QK_K)
    nb = x.shape[0]
    sub = x.reshape(nb * 16, 16)
    scales, L = _make_qx_quants_rmse1(sub, 32)
    scales, L = scales.reshape(nb, 16), L.reshape(nb, 16, 16)

    max_scale, max_abs = np.zeros(nb, _F), np.zeros(nb, _F)
    for ib in range(16):
        a = np.abs(scales[:, ib])
        upd = a > max_abs
        max_abs = np.where(upd, a, max_abs)
        max_scale = np.where(upd, scales[:, ib], max_scale)
    zero = max_abs < GROUP_MAX_EPS
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        iscale = _F(-128) / max_scale
        d16 = np.where(zero, _F(0), _F(1) / iscale).astype(np.float16)
        q_sc = np.minimum(127, _nearest_int(iscale[:, None] * scales))
        q_sc = np.where(zero[:, None], _F(0), q_sc).astype(np.int8)
        d = (d16.astype(_F)[:, None] * q_sc.astype(_F))[:, :, None]   # (nb, 16, 1)
        lq = np.clip(_nearest_int(x.reshape(nb, 16, 16) / d), -32, 31) + 32
    L = np.where(d != 0, lq, L).astype(np.uint8)
    L = np.where(zero[:, None, None], np.uint8(0), L).reshape(nb, 2, 4, 32)  # zero block: all-zero bytes

    ql = np.concatenate([(L[:, :, 0] & 0xF) | ((L[:, :, 2] & 0xF) << 4),
                         (L[:, :, 1] & 0xF) | ((L[:, :, 3] & 0xF) << 4)], axis=2).reshape(nb, 128)
    qh = ((L[:, :, 0] >> 4) | ((L[:, :, 1] >> 4) << 2) | ((L[:, :, 2] >> 4) << 4)
          | ((L[:, :, 3] >> 4) << 6)).reshape(nb, 64)
    blocks = np.concatenate([ql, qh, q_sc.view(np.uint8), d16.view(np.uint8).reshape(nb, 2)], axis=1)
    assert blocks.shape[1] == gguf.GGML_QUANT_SIZES[QT.Q6_K][1]
    return blocks.reshape(*data.shape[:-1], data.shape[-1] // QK_K * blocks.shape[1])
