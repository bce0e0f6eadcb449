/* placeholder: filled by its issue */
typedef int wsgate_placeholder_airlock;
