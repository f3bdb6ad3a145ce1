"""A YOLOv8n-shaped detector in plain torch (random weights, no download), for torchvision_zoo.py: the
structure Ultralytics exports, which torchvision does not have. Conv + BatchNorm + SiLU everywhere; C2f blocks
(a 1x1 convolution split in two halves, bottlenecks with residual adds, a concatenation of every stage);
SPPF (three chained 5x5 max pools, concatenated); a PAN neck (nearest 2x upsampling, concatenations, strided
convolutions); and the decoupled head with its decoding inside the model: the box branch's distribution
focal loss (softmax over 16 bins, then a fixed 1x1 convolution with weights 0..15), distances to boxes
around constant anchor points, times the level's stride, and sigmoid class scores. Output: [1, 4 + classes,
anchors], boxes as (cx, cy, w, h) in input pixels.
"""

import torch
from torch import nn


class Conv(nn.Sequential):
    def __init__(self, c_in, c_out, k=1, s=1):
        super().__init__(nn.Conv2d(c_in, c_out, k, s, k // 2, bias=False), nn.BatchNorm2d(c_out), nn.SiLU())


class Bottleneck(nn.Module):
    def __init__(self, c, shortcut):
        super().__init__()
        self.cv1, self.cv2, self.add = Conv(c, c, 3), Conv(c, c, 3), shortcut

    def forward(self, x):
        y = self.cv2(self.cv1(x))
        return x + y if self.add else y


class C2f(nn.Module):
    def __init__(self, c_in, c_out, n, shortcut):
        super().__init__()
        self.c = c_out // 2
        self.cv1 = Conv(c_in, 2 * self.c)
        self.cv2 = Conv((2 + n) * self.c, c_out)
        self.m = nn.ModuleList(Bottleneck(self.c, shortcut) for _ in range(n))

    def forward(self, x):
        y = list(self.cv1(x).split((self.c, self.c), 1))
        for m in self.m:
            y.append(m(y[-1]))
        return self.cv2(torch.cat(y, 1))


class SPPF(nn.Module):
    def __init__(self, c_in, c_out):
        super().__init__()
        self.cv1, self.cv2 = Conv(c_in, c_in // 2), Conv(c_in * 2, c_out)
        self.pool = nn.MaxPool2d(5, 1, 2)

    def forward(self, x):
        y = [self.cv1(x)]
        for _ in range(3):
            y.append(self.pool(y[-1]))
        return self.cv2(torch.cat(y, 1))


class Detect(nn.Module):
    def __init__(self, classes, channels, strides, size):
        super().__init__()
        self.classes, self.bins, self.strides = classes, 16, strides
        c2, c3 = max(16, channels[0] // 4, 64), max(channels[0], min(classes, 100))
        self.box = nn.ModuleList(
            nn.Sequential(Conv(c, c2, 3), Conv(c2, c2, 3), nn.Conv2d(c2, 4 * self.bins, 1)) for c in channels)
        self.cls = nn.ModuleList(
            nn.Sequential(Conv(c, c3, 3), Conv(c3, c3, 3), nn.Conv2d(c3, classes, 1)) for c in channels)
        self.dfl = nn.Conv2d(self.bins, 1, 1, bias=False).requires_grad_(False)
        self.dfl.weight.data[:] = torch.arange(self.bins, dtype=torch.float).view(1, self.bins, 1, 1)
        points, scales = [], []
        for s in strides:
            n = size // s
            ys, xs = torch.meshgrid(torch.arange(n) + 0.5, torch.arange(n) + 0.5, indexing="ij")
            points.append(torch.stack((xs, ys), -1).view(-1, 2))
            scales.append(torch.full((n * n, 1), float(s)))
        self.register_buffer("anchors", torch.cat(points).transpose(0, 1).unsqueeze(0))  # [1, 2, A]
        self.register_buffer("scale", torch.cat(scales).transpose(0, 1).unsqueeze(0))  # [1, 1, A]

    def forward(self, features):
        outs = [torch.cat((b(x), c(x)), 1) for x, b, c in zip(features, self.box, self.cls)]
        y = torch.cat([o.view(1, 4 * self.bins + self.classes, -1) for o in outs], 2)
        box, cls = y.split((4 * self.bins, self.classes), 1)
        a = box.shape[2]
        dist = self.dfl(box.view(1, 4, self.bins, a).transpose(2, 1).softmax(1)).view(1, 4, a)
        lt, rb = dist.chunk(2, 1)
        x1y1, x2y2 = self.anchors - lt, self.anchors + rb
        boxes = torch.cat(((x1y1 + x2y2) / 2, x2y2 - x1y1), 1) * self.scale
        return torch.cat((boxes, cls.sigmoid()), 1)


class YoloV8Like(nn.Module):
    """YOLOv8n's widths (16-256) and depths; `size` is the square input size (a multiple of 32)."""

    def __init__(self, size=320, classes=80):
        super().__init__()
        self.b0, self.b1, self.b2 = Conv(3, 16, 3, 2), Conv(16, 32, 3, 2), C2f(32, 32, 1, True)
        self.b3, self.b4 = Conv(32, 64, 3, 2), C2f(64, 64, 2, True)
        self.b5, self.b6 = Conv(64, 128, 3, 2), C2f(128, 128, 2, True)
        self.b7, self.b8, self.b9 = Conv(128, 256, 3, 2), C2f(256, 256, 1, True), SPPF(256, 256)
        self.up = nn.Upsample(scale_factor=2, mode="nearest")
        self.h12, self.h15 = C2f(384, 128, 1, False), C2f(192, 64, 1, False)
        self.h16, self.h18 = Conv(64, 64, 3, 2), C2f(192, 128, 1, False)
        self.h19, self.h21 = Conv(128, 128, 3, 2), C2f(384, 256, 1, False)
        self.detect = Detect(classes, (64, 128, 256), (8, 16, 32), size)

    def forward(self, x):
        p3 = self.b4(self.b3(self.b2(self.b1(self.b0(x)))))
        p4 = self.b6(self.b5(p3))
        p5 = self.b9(self.b8(self.b7(p4)))
        n4 = self.h12(torch.cat((self.up(p5), p4), 1))
        n3 = self.h15(torch.cat((self.up(n4), p3), 1))
        m4 = self.h18(torch.cat((self.h16(n3), n4), 1))
        m5 = self.h21(torch.cat((self.h19(m4), p5), 1))
        return self.detect([n3, m4, m5])
