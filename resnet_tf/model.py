"""The ResNet family (18, 34, 50, 101, 152) built from one stage table on :mod:`resnet_tf.ops`.

Variable names are a contract (checkpoints and weight import rely on them)::

    resnet/stem/conv/{w,b}, resnet/stem/conv/bn/{gamma,beta,moving_mean,moving_variance}
    resnet/stage_S/block_B/conv_I/...      S = 1..4, B = 1..n, I = 0..2 (bottleneck) or 0..1 (basic)
    resnet/stage_S/block_B/shortcut/...    projection where the block changes shape (original layout: and
                                           on the first block of every stage)
    resnet/logits/{w,b}
"""

from __future__ import annotations

import tensorflow as tf

from resnet_tf.ops import ConvOp, FcOp, avg_pool_op, global_avg_pool, max_pool_op, symmetric_max_pool
from resnet_tf.specs import BN_MOMENTUM, EXPANSION, LAYOUTS, STAGES, STEMS, StemSpec, head_size, stage_name


class Block(tf.Module):
    """One residual block: ``basic`` (3x3, 3x3) or ``bottleneck`` (1x1, 3x3, 1x1, stride on the first
    1x1 as in Keras' ResNet50), plus a 1x1 projection ``shortcut`` where the shape changes (or always, with
    ``project``).

    With ``use_shortcut=False`` the block has no residual connection at all (the plain network).
    ``conv_options`` go to every :class:`ConvOp` (``rng``, ``bn_momentum``, ``bn_epsilon``, ...).
    """

    def __init__(
        self,
        kind: str,
        n_in: int,
        n_mid: int,
        stride: int,
        use_shortcut: bool,
        project: bool = False,
        name: str = "block",
        **conv_options,
    ):
        super().__init__(name=name)
        n_out = n_mid * EXPANSION[kind]
        if kind == "basic":
            specs = [(n_in, n_mid, 3, stride), (n_mid, n_out, 3, 1)]
        else:
            specs = [(n_in, n_mid, 1, stride), (n_mid, n_mid, 3, 1), (n_mid, n_out, 1, 1)]
        last = len(specs) - 1
        with self.name_scope:
            self.convs = [
                ConvOp(i, o, k, s, activation=None if n == last else tf.nn.relu, name=f"conv_{n}", **conv_options)
                for n, (i, o, k, s) in enumerate(specs)
            ]
            needs_projection = use_shortcut and (project or stride != 1 or n_in != n_out)
            self.shortcut = (
                ConvOp(n_in, n_out, 1, stride, activation=None, name="shortcut", **conv_options)
                if needs_projection
                else None
            )
        self.use_shortcut = use_shortcut
        self.n_out = n_out

    @tf.Module.with_name_scope
    def __call__(self, x: tf.Tensor, training: bool = False, batch_statistics: bool | None = None) -> tf.Tensor:
        """Applies the block to NHWC ``x`` (``training``, ``batch_statistics``: see :class:`ConvOp`)."""
        y = x
        for conv in self.convs:
            y = conv(y, training, batch_statistics)
        if self.use_shortcut:
            y = y + (self.shortcut(x, training, batch_statistics) if self.shortcut is not None else x)
        return tf.nn.relu(y)


class Stem(tf.Module):
    """The stem: a convolution with batch norm and ReLU (``conv``), then a 3x3/2 max pool (``pool``) unless
    the stem has none. The network calls the two parts itself, to expose the convolution's output as a
    feature map."""

    def __init__(self, n_out: int, spec: StemSpec, name: str = "stem", **conv_options):
        super().__init__(name=name)
        with self.name_scope:
            self.conv = ConvOp(3, n_out, kernel_size=spec.kernel, stride=spec.stride, name="conv", **conv_options)
        self.pool_padding = spec.pool
        self.n_out = n_out

    def pool(self, x: tf.Tensor) -> tf.Tensor:
        """The 3x3/2 max pool (identity for a stem without one), after Keras' symmetric zero padding of 1
        (a padded copy: the fast gradient, and a form TFLite converts)."""
        if self.pool_padding == "symmetric":
            return symmetric_max_pool(x, kernel_size=3, stride=2)
        if self.pool_padding == "same":
            return max_pool_op(x, kh=3, kw=3, padding="SAME")
        return x


class ResNet(tf.Module):
    """A ResNet of the given depth, called as ``model(images, training=False)`` -> logits.

    Args:
      depth: 18, 34 (basic blocks), 50, 101 or 152 (bottleneck blocks).
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
      stem: a key of :data:`STEMS` (default: the layout's own); the original layout has only its own.
      sync_bn: batch norm statistics over the global batch of all ``tf.distribute`` replicas in training
        (per replica otherwise); the weights and checkpoints are the same either way.
    """

    def __init__(
        self,
        depth: int,
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
        name: str = "resnet",
    ):
        super().__init__(name=name)
        if depth not in STAGES:
            raise ValueError(f"depth must be one of {sorted(STAGES)}, got {depth}")
        if layout not in LAYOUTS:
            raise ValueError(f"layout must be one of {', '.join(LAYOUTS)}, got {layout!r}")
        if num_classes < 1 or width < 1:
            raise ValueError(f"num_classes and width must be positive, got {num_classes} and {width}")
        if LAYOUTS[layout].head == "flatten" and not image_size:
            raise ValueError(f"the {layout} layout needs image_size: its dense head is sized by the input")
        stem = stem or LAYOUTS[layout].stem
        if stem not in STEMS or (layout == "original") != (stem == "original"):
            choices = "original" if layout == "original" else ", ".join(k for k in STEMS if k != "original")
            raise ValueError(f"the {layout} layout takes the stem {choices}, got {stem!r}")
        self.depth, self.num_classes, self.width = depth, num_classes, width
        self.use_shortcut, self.layout, self.image_size, self.stem_name = use_shortcut, layout, image_size, stem
        self.compute_dtype = tf.as_dtype(compute_dtype)
        rng = (
            tf.random.Generator.from_seed(seed)
            if seed is not None
            else tf.random.Generator.from_non_deterministic_state()
        )
        spec = LAYOUTS[layout]
        conv_options = dict(
            rng=rng,
            bn_momentum=bn_momentum,
            bn_epsilon=spec.bn_epsilon,
            sync_bn=sync_bn,
            symmetric_padding=spec.symmetric_padding,
        )
        kind, blocks_per_stage = STAGES[depth]
        with self.name_scope:
            self.stem = Stem(width, STEMS[stem], **conv_options)
            self.stages = []
            n_in = self.stem.n_out
            for s, n_blocks in enumerate(blocks_per_stage):
                stage = []
                with tf.name_scope(stage_name(s)):
                    for b in range(n_blocks):
                        stride = 2 if (b == 0 and s > 0) else 1
                        stage.append(
                            Block(
                                kind,
                                n_in,
                                width * 2**s,
                                stride,
                                use_shortcut,
                                project=spec.project_first and b == 0,
                                name=f"block_{b + 1}",
                                **conv_options,
                            )
                        )
                        n_in = stage[-1].n_out
                self.stages.append(stage)
            head_in = n_in * (head_size(stem, image_size) ** 2 if spec.head == "flatten" else 1)
            self.logits = FcOp(head_in, num_classes, rng=rng, name="logits")
        self.feature_channels = n_in
        self.frozen_stages = 0

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
