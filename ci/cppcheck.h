/* Macros from system headers that cppcheck does not read (make cppcheck
 * passes this file with --include). */
#define json_array_foreach(a, i, v) \
	for ((i) = 0; (i) < json_array_size(a) && ((v) = json_array_get((a), (i))); (i)++)
#define json_object_foreach(o, k, v) \
	for ((k) = json_object_iter_key(json_object_iter(o)); (k) && ((v) = json_object_iter_value(json_object_key_to_iter(k))); (k) = NULL)
#define RB_GENERATE_INTERNAL(name, type, field, cmp, attr)
#define RB_GENERATE(name, type, field, cmp)
#define RB_GENERATE_STATIC(name, type, field, cmp)
#define RB_PROTOTYPE(name, type, field, cmp)
#define RB_PROTOTYPE_STATIC(name, type, field, cmp)
#define RB_HEAD(name, type) struct name { struct type *rbh_root; }
#define RB_ENTRY(type) struct { struct type *rbe_left, *rbe_right, *rbe_parent; int rbe_color; }
#define LIST_FOREACH_SAFE(var, head, field, tvar) \
	for ((var) = LIST_FIRST(head); (var) && ((tvar) = LIST_NEXT(var, field), 1); (var) = (tvar))
#define TAILQ_FOREACH_SAFE(var, head, field, tvar) \
	for ((var) = TAILQ_FIRST(head); (var) && ((tvar) = TAILQ_NEXT(var, field), 1); (var) = (tvar))
