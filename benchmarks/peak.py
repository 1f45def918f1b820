"""What the hardware could do and what a network asks of it.

The CPU's theoretical peak and a network's FLOPs turn images/s into a
fraction of peak, which says whether a model is compute- or memory-bound.
"""

import os
import platform


def cpu_peak(clock_ghz=None):
    """This CPU's theoretical peak in GFLOP/s, and how it was derived.

    peak = cores x clock x FLOPs per cycle per core. FLOPs per cycle come from
    the widest multiply-add the CPU has: AVX-512 with two FMA pipes gives
    2 pipes x 16 float32 lanes x 2 (multiply + add) = 64; AMD Zen 4 runs
    AVX-512 on 256-bit halves, so 32. For bfloat16 the dot-product
    instruction (AVX512_BF16) doubles that; Intel AMX tiles reach 1024 bf16
    FLOPs per cycle per core where present.
    """
    cores = os.cpu_count() or 1
    info = _cpuinfo()
    flags = set(info.get("flags", "").split())
    vendor = info.get("vendor_id", "")
    ghz = clock_ghz or _clock_ghz(info)
    clock_how = ("as given (--clock-ghz)" if clock_ghz else
                 "nominal, as the OS reports it; a boosting CPU runs faster, so pass the "
                 "measured clock with --clock-ghz")
    if "avx512f" in flags:
        fp32 = 32 if vendor == "AuthenticAMD" else 64
        fp32_how = (
            "AVX-512 on 256-bit halves (AMD Zen 4): 2 FMA pipes x 8 lanes x 2"
            if vendor == "AuthenticAMD"
            else "AVX-512: 2 FMA pipes x 16 lanes x 2"
        )
    elif "avx2" in flags and "fma" in flags:
        fp32, fp32_how = 32, "AVX2: 2 FMA pipes x 8 lanes x 2"
    else:
        fp32, fp32_how = 8, "SSE: 4 lanes x 2"
    if "amx_bf16" in flags:
        bf16, bf16_how = 1024, "AMX tiles: 1024 bf16 FLOPs/cycle"
    elif "avx512_bf16" in flags:
        bf16, bf16_how = 2 * fp32, "AVX512_BF16 dot products: 2x the float32 rate (no AMX)"
    else:
        bf16, bf16_how = fp32, "no bf16 instructions: same as float32"
    return {
        "cpu": info.get("model name", platform.processor()),
        "cores": cores,
        "ghz": ghz,
        "float32_flops_per_cycle": fp32,
        "bfloat16_flops_per_cycle": bf16,
        "float32_gflops": cores * ghz * fp32,
        "bfloat16_gflops": cores * ghz * bf16,
        "derivation": f"{cores} cores x {ghz:.2f} GHz ({clock_how}) x FLOPs/cycle; "
        f"float32: {fp32_how}; bfloat16: {bf16_how}",
    }


def _cpuinfo():
    try:
        with open("/proc/cpuinfo") as f:
            text = f.read()
    except OSError:
        return {}
    info = {}
    for line in text.splitlines():
        key, sep, value = line.partition(":")
        if sep and key.strip() not in info:
            info[key.strip()] = value.strip()
    return info


def _clock_ghz(info):
    """Nominal clock: the TSC rate (bogomips / 2) is what a VM reports reliably."""
    if "bogomips" in info:
        return float(info["bogomips"]) / 2000.0
    if "cpu MHz" in info:
        return float(info["cpu MHz"]) / 1000.0
    return 1.0


def forward_flops(network):
    """Multiply-add FLOPs of one forward pass of a fixed-size network.

    Counted analytically per layer from the static shapes: a convolution
    costs 2 x output pixels x kernel area x input channels / groups x output
    channels; a transposed convolution 2 x input pixels x kernel area x input
    x output channels. Everything else (batch norm, activations, pooling,
    concatenation) is memory-bound and left out, so this is a lower bound.
    """
    import keras

    total = 0
    for layer in _all_layers(network):
        if isinstance(layer, keras.layers.Conv2DTranspose):
            in_h, in_w, c_in = layer.input.shape[1:4]
            kh, kw = layer.kernel_size
            total += 2 * in_h * in_w * kh * kw * c_in * layer.filters
        elif isinstance(layer, keras.layers.Conv2D):
            out_h, out_w = layer.output.shape[1:3]
            c_in = layer.input.shape[-1]
            kh, kw = layer.kernel_size
            total += 2 * out_h * out_w * kh * kw * (c_in // layer.groups) * layer.filters
    return total


def _all_layers(model):
    for layer in model.layers:
        if hasattr(layer, "layers"):
            yield from _all_layers(layer)
        else:
            yield layer
