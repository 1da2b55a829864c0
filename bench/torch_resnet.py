"""The benchmark's PyTorch peer: the same ResNets as the port (bottleneck ResNet-50, basic-block ResNet-18 of
any width; the port's stems: ``standard`` 7x7/2 + pool, ``small`` 3x3/1 + pool, ``cifar`` 3x3/1), written as torchvision writes them, so
that ``bench/peers.py`` needs only the ``torch`` CPU wheel (``bench/requirements-bench.txt``)."""

from __future__ import annotations

import torch
from torch import nn


def conv_bn(cin: int, cout: int, kernel: int, stride: int = 1, relu: bool = True) -> nn.Sequential:
    """Convolution without bias, batch norm, and a ReLU unless ``relu`` is False."""
    layers = [nn.Conv2d(cin, cout, kernel, stride, kernel // 2, bias=False), nn.BatchNorm2d(cout)]
    return nn.Sequential(*layers, *([nn.ReLU(inplace=True)] if relu else []))


class Block(nn.Module):
    """A basic block (two 3x3) or a bottleneck (1x1, 3x3, 1x1 x4), with a projection shortcut when the
    shape changes."""

    def __init__(self, cin: int, width: int, stride: int, bottleneck: bool):
        super().__init__()
        cout = width * 4 if bottleneck else width
        if bottleneck:
            self.body = nn.Sequential(
                conv_bn(cin, width, 1), conv_bn(width, width, 3, stride), conv_bn(width, cout, 1, relu=False)
            )
        else:
            self.body = nn.Sequential(conv_bn(cin, width, 3, stride), conv_bn(width, cout, 3, relu=False))
        self.shortcut = conv_bn(cin, cout, 1, stride, relu=False) if stride != 1 or cin != cout else nn.Identity()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.relu(self.body(x) + self.shortcut(x))


class ResNet(nn.Module):
    """ResNet-``depth`` (18 or 50) with ``width`` channels in its first stage and ``classes`` outputs."""

    def __init__(self, depth: int, width: int = 64, classes: int = 1000, stem: str = "standard"):
        super().__init__()
        blocks, bottleneck = {18: ([2, 2, 2, 2], False), 50: ([3, 4, 6, 3], True)}[depth]
        kernel, stride = (7, 2) if stem == "standard" else (3, 1)
        pool = [nn.MaxPool2d(3, 2, 1)] if stem in ("standard", "small") else []
        self.stem = nn.Sequential(conv_bn(3, width, kernel, stride), *pool)
        layers, cin = [], width
        for stage, count in enumerate(blocks):
            for i in range(count):
                layers.append(Block(cin, width * 2**stage, 2 if i == 0 and stage > 0 else 1, bottleneck))
                cin = width * 2**stage * (4 if bottleneck else 1)
        self.stages = nn.Sequential(*layers)
        self.head = nn.Linear(cin, classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(torch.flatten(nn.functional.adaptive_avg_pool2d(self.stages(self.stem(x)), 1), 1))
