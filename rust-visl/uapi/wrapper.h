/* The UAPI headers rust-visl is bound to; the include path comes from VISL_UAPI_INCLUDE. */
#include <linux/videodev2.h>
#include <linux/v4l2-controls.h>
#include <linux/media.h>
