"""The ResNet family built on :mod:`resnet_tf.ops` from a registered network's spec
(:mod:`resnet_tf.networks`: ResNet-18/34/50/101/152, ResNet-50-D, Wide ResNet-50-2, ResNeXt-50 32x4d, ...).

Variable names are a contract (checkpoints and weight import rely on them)::

    resnet/stem/conv/{w,b}, resnet/stem/conv/bn/{gamma,beta,moving_mean,moving_variance}
    resnet/stem/conv_1/..., resnet/stem/conv_2/...   the deep stem's second and third convolutions
    resnet/stage_S/block_B/conv_I/...      S = 1..4, B = 1..n, I = 0..2 (bottleneck) or 0..1 (basic)
    resnet/stage_S/block_B/shortcut/...    projection where the block changes shape (original layout: and
                                           on the first block of every stage)
    resnet/logits/{w,b}
"""

from __future__ import annotations

import itertools

import tensorflow as tf

from resnet_tf.kernels import KernelPolicy, detect_policy
from resnet_tf.networks import NetworkSpec, network_spec
from resnet_tf.ops import ConvOp, FcOp, avg_pool_op, global_avg_pool, max_pool_op, symmetric_max_pool
from resnet_tf.specs import BN_MOMENTUM, LAYOUTS, STEMS, StemSpec, head_size, stage_name


class Block(tf.Module):
    """One residual block of ``spec``'s kind: ``basic`` (3x3, 3x3) or ``bottleneck`` (1x1, 3x3 in
    ``spec.groups`` groups, 1x1; the stride on the first 1x1 as in Keras' ResNet50, or on the 3x3 with
    ``spec.stride_in_3x3``), plus a 1x1 projection ``shortcut`` where the shape changes (or always, with
    ``project``), after a 2x2 average pool where the resolution changes with ``spec.avg_down``.

    With ``use_shortcut=False`` the block has no residual connection at all (the plain network).
    ``conv_options`` go to every :class:`ConvOp` (``rng``, ``bn_momentum``, ``bn_epsilon``, ...).
    """

    def __init__(
        self,
        spec: NetworkSpec,
        n_in: int,
        channels: tuple[int, int],
        stride: int,
        use_shortcut: bool,
        project: bool = False,
        name: str = "block",
        **conv_options,
    ):
        super().__init__(name=name)
        n_mid, n_out = channels
        if spec.block == "basic":
            specs = [(n_in, n_mid, 3, stride, 1), (n_mid, n_out, 3, 1, 1)]
        else:
            first, middle = (1, stride) if spec.stride_in_3x3 else (stride, 1)
            specs = [(n_in, n_mid, 1, first, 1), (n_mid, n_mid, 3, middle, spec.groups), (n_mid, n_out, 1, 1, 1)]
        last = len(specs) - 1
        with self.name_scope:
            self.convs = [
                ConvOp(
                    i, o, k, s, groups=g, activation=None if n == last else tf.nn.relu, name=f"conv_{n}", **conv_options
                )
                for n, (i, o, k, s, g) in enumerate(specs)
            ]
            needs_projection = use_shortcut and (project or stride != 1 or n_in != n_out)
            self.pool_first = spec.avg_down and stride != 1
            self.shortcut = (
                ConvOp(
                    n_in, n_out, 1, 1 if self.pool_first else stride, activation=None, name="shortcut", **conv_options
                )
                if needs_projection
                else None
            )
        self.use_shortcut = use_shortcut
        self.stride = stride
        self.n_out = n_out

    def _short(self, x: tf.Tensor, training: bool, batch_statistics: bool | None) -> tf.Tensor:
        if self.shortcut is None:
            return x
        if self.pool_first:
            x = tf.nn.avg_pool2d(x, self.stride, self.stride, "SAME")  # SAME: the edges averaged over what is there
        return self.shortcut(x, training, batch_statistics)

    @tf.Module.with_name_scope
    def __call__(self, x: tf.Tensor, training: bool = False, batch_statistics: bool | None = None) -> tf.Tensor:
        """Applies the block to NHWC ``x`` (``training``, ``batch_statistics``: see :class:`ConvOp`)."""
        y = x
        for conv in self.convs:
            y = conv(y, training, batch_statistics)
        if self.use_shortcut:
            y = y + self._short(x, training, batch_statistics)
        return tf.nn.relu(y)


class Stem(tf.Module):
    """The stem: a convolution with batch norm and ReLU (``conv``), for a deep stem two 3x3 more (``deep``),
    then a 3x3/2 max pool (``pool``) unless the stem has none. The network calls the parts itself: the first
    convolution computes in float32, and the convolutions' output is exposed as a feature map."""

    def __init__(self, channels: tuple[int, ...], spec: StemSpec, name: str = "stem", **conv_options):
        super().__init__(name=name)
        kernel = spec.kernel if len(channels) == 1 else 3
        with self.name_scope:
            self.conv = ConvOp(3, channels[0], kernel_size=kernel, stride=spec.stride, name="conv", **conv_options)
            self.deep = [
                ConvOp(n_in, n_out, kernel_size=3, name=f"conv_{i + 1}", **conv_options)
                for i, (n_in, n_out) in enumerate(itertools.pairwise(channels))
            ]
        self.pool_padding = spec.pool
        self.n_out = channels[-1]

    def pool(self, x: tf.Tensor) -> tf.Tensor:
        """The 3x3/2 max pool (identity for a stem without one), after Keras' symmetric zero padding of 1
        (a padded copy: the fast gradient, and a form TFLite converts)."""
        if self.pool_padding == "symmetric":
            return symmetric_max_pool(x, kernel_size=3, stride=2)
        if self.pool_padding == "same":
            return max_pool_op(x, kh=3, kw=3, padding="SAME")
        return x


def _checked_stem(
    spec: NetworkSpec, num_classes: int, width: int, layout: str, image_size: int | None, stem: str | None
) -> str:
    """The stem of a network with these arguments (the layout's own unless given); ValueError naming the
    argument that cannot build one."""
    if layout not in LAYOUTS:
        raise ValueError(f"layout must be one of {', '.join(LAYOUTS)}, got {layout!r}")
    if num_classes < 1 or width < 1:
        raise ValueError(f"num_classes and width must be positive, got {num_classes} and {width}")
    spec.check_width(width)
    if LAYOUTS[layout].head == "flatten" and not image_size:
        raise ValueError(f"the {layout} layout needs image_size: its dense head is sized by the input")
    stem = stem or LAYOUTS[layout].stem
    if stem not in STEMS or (layout == "original") != (stem == "original"):
        choices = "original" if layout == "original" else ", ".join(k for k in STEMS if k != "original")
        raise ValueError(f"the {layout} layout takes the stem {choices}, got {stem!r}")
    return stem


class ResNet(tf.Module):
    """A network of the family, called as ``model(images, training=False)`` -> logits.

    Args:
      arch: a registered network's name (:func:`resnet_tf.networks.network_names`: ``resnet18`` ...
        ``resnet152``, ``resnet50d``, ``wide_resnet50_2``, ``resnext50_32x4d``), or a depth of the standard
        family (``50`` for ``resnet50``).
      num_classes: size of the classifier head.
      use_shortcut: False builds the plain network (no residual connections), for ablations.
      width: base channels (64 in the standard networks); smaller values make narrow networks that
        train quickly on a CPU.
      seed: seeds the initial weights; None draws them non-deterministically.
      bn_momentum: batch norm moving-average momentum.
      compute_dtype: dtype of the activations (float32, float16 or bfloat16); the variables stay float32
        and the logits are returned as float32.
      layout: ``standard`` (Keras' ResNet) or ``original`` (the TF1 pipeline's network; see
        :data:`LAYOUTS`), whose head is sized for ``image_size`` and takes only images of that size.
      image_size: the input size, needed by the ``original`` layout.
      stem: a key of :data:`STEMS` (default: the layout's own); the original layout has only its own. A
        deep-stem network keeps the stem's stride and pool with three 3x3 convolutions.
      sync_bn: batch norm statistics over the global batch of all ``tf.distribute`` replicas in training
        (per replica otherwise); the weights and checkpoints are the same either way.
      kernel_policy: how its convolutions are computed (default: this process's devices' policy,
        :func:`resnet_tf.kernels.detect_policy`), chosen once for the whole network.
      zero_init_residual: start the last batch-norm scale of every residual block at 0, so each block
        starts as its shortcut (the plain network keeps its scales at 1: it has no shortcut to start as).
    """

    def __init__(
        self,
        arch: str | int,
        num_classes: int,
        use_shortcut: bool = True,
        width: int = 64,
        seed: int | None = 0,
        bn_momentum: float = BN_MOMENTUM,
        compute_dtype: tf.DType | str = tf.float32,
        layout: str = "standard",
        image_size: int | None = None,
        sync_bn: bool = False,
        stem: str | None = None,
        kernel_policy: KernelPolicy | None = None,
        zero_init_residual: bool = False,
        name: str = "resnet",
    ):
        super().__init__(name=name)
        self.arch = f"resnet{arch}" if isinstance(arch, int) else arch
        self.spec = network_spec(self.arch)
        stem = _checked_stem(self.spec, num_classes, width, layout, image_size, stem)
        self.num_classes, self.width = num_classes, width
        self.use_shortcut, self.layout, self.image_size, self.stem_name = use_shortcut, layout, image_size, stem
        self.compute_dtype = tf.as_dtype(compute_dtype)
        rng = (
            tf.random.Generator.from_seed(seed)
            if seed is not None
            else tf.random.Generator.from_non_deterministic_state()
        )
        layout_spec = LAYOUTS[layout]
        self.kernel_policy = kernel_policy or detect_policy()
        conv_options = dict(
            kernel_policy=self.kernel_policy,
            rng=rng,
            bn_momentum=bn_momentum,
            bn_epsilon=layout_spec.bn_epsilon,
            sync_bn=sync_bn,
            symmetric_padding=layout_spec.symmetric_padding,
        )
        with self.name_scope:
            self.stem = Stem(self.spec.stem_channels(width), STEMS[stem], **conv_options)
            self.stages = self._stages(layout_spec.project_first, conv_options)
            n_in = self.stages[-1][-1].n_out
            head_in = n_in * (head_size(stem, image_size) ** 2 if layout_spec.head == "flatten" else 1)
            self.logits = FcOp(head_in, num_classes, rng=rng, name="logits")
        self.feature_channels = n_in
        self.frozen_stages = 0
        if zero_init_residual and use_shortcut:
            for stage in self.stages:
                for block in stage:
                    block.convs[-1].bn.gamma.assign(tf.zeros_like(block.convs[-1].bn.gamma))

    def _stages(self, project_first: bool, conv_options: dict) -> list[list[Block]]:
        """The four stages of blocks; the first block of every stage but the first strides by 2."""
        stages, n_in = [], self.stem.n_out
        for s, n_blocks in enumerate(self.spec.blocks):
            stage = []
            with tf.name_scope(stage_name(s)):
                for b in range(n_blocks):
                    channels = self.spec.stage_channels(self.width, s)
                    stride, project = (2 if (b == 0 and s > 0) else 1), project_first and b == 0
                    stage.append(
                        Block(
                            self.spec,
                            n_in,
                            channels,
                            stride,
                            self.use_shortcut,
                            project,
                            f"block_{b + 1}",
                            **conv_options,
                        )
                    )
                    n_in = stage[-1].n_out
            stages.append(stage)
        return stages

    def freeze(self, stages: int) -> None:
        """Fixes the stem and the first ``stages`` stages (0: none): their batch norm runs in inference mode
        even in training, and :meth:`trained_variables` leaves them out."""
        if not 0 <= stages <= len(self.stages):
            raise ValueError(f"stages to freeze must be 0 to {len(self.stages)}, got {stages}")
        self.frozen_stages = stages

    def _frozen_parts(self) -> list[tf.Module]:
        return (
            [self.stem] + [block for stage in self.stages[: self.frozen_stages] for block in stage]
            if self.frozen_stages
            else []
        )

    def trained_variables(self) -> list[tf.Variable]:
        """The trainable variables outside the frozen stages (all of them when nothing is frozen)."""
        frozen = {id(v) for part in self._frozen_parts() for v in part.variables}
        return [v for v in self.trainable_variables if id(v) not in frozen]

    def features(
        self, images: tf.Tensor, training: bool = False, batch_statistics: bool | None = None
    ) -> dict[str, tf.Tensor]:
        """Feature maps by name: ``stem`` (the stem's convolution, before any pool), then
        ``stage_1`` .. ``stage_4``; the last one feeds the head. ``batch_statistics=False`` while
        ``training``: batch norm as at inference (``--freeze-bn``). Frozen stages run as at inference."""
        frozen = self.frozen_stages
        batch = training if batch_statistics is None else batch_statistics
        # The stem computes in float32 in every precision: bfloat16 would round the normalized image to 8
        # significant bits (about half a grey level), which cost the demo 5 points of top-1 (bench/ACCURACY.md);
        # with 3 input channels it is a small share of the step.
        x = self.stem.conv(tf.cast(images, tf.float32), training and not frozen, batch and not frozen)
        x = tf.cast(x, self.compute_dtype)
        for conv in self.stem.deep:
            x = conv(x, training and not frozen, batch and not frozen)
        outputs = {"stem": x}
        x = self.stem.pool(x)
        for s, stage in enumerate(self.stages):
            with tf.name_scope(stage_name(s)):
                for block in stage:
                    x = block(x, training and s >= frozen, batch and s >= frozen)
            outputs[stage_name(s)] = x
        return outputs

    @tf.Module.with_name_scope
    def __call__(self, images: tf.Tensor, training: bool = False, batch_statistics: bool | None = None) -> tf.Tensor:
        """Logits ``[N, num_classes]`` (float32) for NHWC images ``[N, H, W, 3]`` with H, W >= 32 (exactly
        ``image_size`` for the original layout); ``training`` and ``batch_statistics`` as in :meth:`features`."""
        features = self.features(images, training, batch_statistics)[stage_name(len(self.stages) - 1)]
        return tf.cast(self.logits(self._pool_head(features)), tf.float32)

    def _pool_head(self, features: tf.Tensor) -> tf.Tensor:
        if LAYOUTS[self.layout].head == "global":
            return global_avg_pool(features)
        expected = head_size(self.stem_name, self.image_size)
        if features.shape[1] is not None and tuple(features.shape[1:3]) != (expected, expected):
            raise ValueError(
                f"this {self.layout}-layout network takes {self.image_size}x{self.image_size} images "
                f"(its dense head is sized for them); the input gives a {features.shape[1]}x"
                f"{features.shape[2]} final map instead of {expected}x{expected}"
            )
        pooled = avg_pool_op(features, kh=7, kw=7, dh=1, dw=1, padding="SAME")
        return tf.reshape(pooled, [-1, self.logits.w.shape[0]])  # NHWC order, as the original flattened

    def kernels(self, trained_only: bool = False) -> list[tf.Variable]:
        """The convolution and fully connected kernels: the variables weight decay applies to (with
        ``trained_only``, those outside the frozen stages)."""
        kernels = [m.w for m in self.submodules if isinstance(m, (ConvOp, FcOp))]
        if not trained_only:
            return kernels
        trained = {id(v) for v in self.trained_variables()}
        return [k for k in kernels if id(k) in trained]
