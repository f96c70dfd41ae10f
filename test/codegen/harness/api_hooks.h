/* Layer hooks of api_two.c: after every layer of an outer run, api_nested runs the same model on
 * another arena and the other model on its static one (see api_two.c). */
#ifndef API_HOOKS_H
#define API_HOOKS_H

void api_nested(int model, int layer);

#define HAR_LAYER_END(i, name) api_nested(0, (i))
#define KWS_LAYER_END(i, name) api_nested(1, (i))

#endif
