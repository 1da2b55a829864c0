"""data_utils.images: how an image file becomes the network's input, written once here and implemented
twice: with OpenCV (:mod:`data_utils.images.opencv`: training, evaluation and prediction on files) and in
TensorFlow ops (:mod:`data_utils.images.tf_ops` with :mod:`data_utils.images.exif`: the exported model,
which has no OpenCV). :mod:`data_utils.images.normalization` turns the 8-bit pixels into the network's
input (a TensorFlow op both use); :mod:`data_utils.images.signatures` checks a file without decoding it.

The decoding contract: every image becomes an ``[H, W, 3]`` 8-bit **RGB** array as a person sees it in an
image viewer, as ``cv2.imread`` gives it:

- JPEG: the EXIF orientation tag is applied (a phone photo tagged "rotate 90" comes out upright);
  colour, grayscale, CMYK and YCCK JPEGs all become RGB; the accurate integer DCT (OpenCV's libjpeg);
- grayscale is replicated to three channels; palette PNGs are expanded;
- an alpha channel is dropped (the colour under it is kept, not composited on a background);
- 16-bit images are scaled to 8 bits (the high byte);
- GIF: the first frame.

Then, for evaluation and serving, the centre ``crop`` fraction of each side (rounded half to even, at least
one pixel), and a resize to the run's square size without keeping the aspect ratio: ``auto`` averages
areas when shrinking (OpenCV's INTER_AREA) and uses OpenCV's cubic kernel (a = -0.75) when enlarging;
``cubic`` always uses the cubic kernel (the TF1 original's choice). The result is rounded to 8 bits.

Normalization to float happens on the accelerator, inside the model step, so the input pipeline moves
1 byte per channel instead of 4.
"""
