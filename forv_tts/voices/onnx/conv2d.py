"""Rewrite an exported graph's 1-D convolutions as 2-D ones over a height of one.

Why: onnxruntime's CPU provider runs a 1-D `Conv` through im2col and a matrix product; its NCHWc layout
transformer (graph optimisation level "all", applied when a session opens) only takes 2-D convolutions,
and for those it runs blocked direct convolutions. HiFi-GAN v2's vocoder, run as [N, C, 1, T], took
0.146 s instead of 0.196 s for 460 mel frames on one thread (1.34×), samples within 4.2e-7
(BENCHMARKS.md). The torch engine does the same for oneDNN (`CoquiVoice.vocode` runs its `Conv1d`s as
2-D convolutions on channels-last tensors).

Each 1-D `Conv` whose weight is a constant becomes `Unsqueeze(axis 2) → Conv (kernel 1 × k) →
Squeeze(axis 2)` with the same pads, strides, dilations and groups; the weight gains its height axis.
The arithmetic is the same sum in the same order per output; what changes is the kernel that computes it.
The rewritten graph must not be saved after the NCHWc pass (that layout is specific to the machine's
vector width), so it is stored plain and optimised when a session opens.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

_AXES = "forv_tts_axis2"


def rewrite(path: Path) -> int:
    """Rewrite `path` in place; returns how many convolutions changed."""
    import numpy as np
    import onnx
    from onnx import helper, numpy_helper

    model = onnx.load(str(path))
    graph = model.graph
    weights = {init.name: init for init in graph.initializer}
    uses: dict[str, int] = {}
    for node in graph.node:
        for name in node.input:
            uses[name] = uses.get(name, 0) + 1
    nodes: list[Any] = []
    changed = 0
    for node in graph.node:
        weight = weights.get(node.input[1]) if node.op_type == "Conv" and len(node.input) > 1 else None
        attrs = {a.name: helper.get_attribute_value(a) for a in node.attribute}
        if (
            weight is None
            or len(weight.dims) != 3
            or attrs.get("auto_pad", b"NOTSET") not in (b"NOTSET", "NOTSET")
        ):
            nodes.append(node)
            continue
        kernel = numpy_helper.to_array(weight)[:, :, None, :]
        name = f"{weight.name}_2d"
        if name not in weights:
            weights[name] = numpy_helper.from_array(np.ascontiguousarray(kernel), name)
            graph.initializer.append(weights[name])
        uses[weight.name] -= 1
        conv_attrs: dict[str, Any] = {"kernel_shape": [1, int(weight.dims[2])]}
        if "pads" in attrs:
            begin, end = attrs["pads"]
            conv_attrs["pads"] = [0, begin, 0, end]
        if "strides" in attrs:
            conv_attrs["strides"] = [1, attrs["strides"][0]]
        if "dilations" in attrs:
            conv_attrs["dilations"] = [1, attrs["dilations"][0]]
        if "group" in attrs:
            conv_attrs["group"] = attrs["group"]
        x4, y4 = f"{node.output[0]}_in4d", f"{node.output[0]}_out4d"
        nodes.append(
            helper.make_node("Unsqueeze", [node.input[0], _AXES], [x4], name=f"{node.name}_unsqueeze")
        )
        nodes.append(
            helper.make_node("Conv", [x4, name, *node.input[2:]], [y4], name=node.name, **conv_attrs)
        )
        nodes.append(helper.make_node("Squeeze", [y4, _AXES], [node.output[0]], name=f"{node.name}_squeeze"))
        changed += 1
    if not changed:
        return 0
    graph.initializer.append(numpy_helper.from_array(np.array([2], dtype=np.int64), _AXES))
    unused = [init for init in graph.initializer if init.name in uses and uses[init.name] == 0]
    for init in unused:
        graph.initializer.remove(init)
    del graph.node[:]
    graph.node.extend(nodes)
    onnx.checker.check_model(model)
    onnx.save(model, str(path))
    return changed
